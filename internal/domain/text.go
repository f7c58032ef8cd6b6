package domain

import (
	"unicode/utf8"
)

// Length limits of text from outside, in characters (Unicode code points, as JSON Schema's
// maxLength counts them). The OpenAPI document names the same numbers (a test checks).
const (
	MaxIDLen              = 128  // ids of posbridge's objects and of a provider's (store_id, integration_id)
	MaxRefLen             = 128  // the app's references: document ref, product_ref, customer ref
	MaxNicknameLen        = 60   // an integration's nickname
	MaxNameLen            = 200  // a person's or a thing's name
	MaxLineDescriptionLen = 500  // a document line's description
	MaxDescriptionLen     = 4000 // free text (a webhook endpoint's description)
	MaxEmailLen           = 254  // an email address
	MaxPhoneLen           = 40   // a phone number
	MaxURLLen             = 2000 // a URL
	MaxSecretLen          = 4096 // one credential (API key, token, secret)
	MaxCodeLen            = 64   // enumerations and small codes (status, currency, quantity, tax rate)
)

// TextKind says how a kind of text field is checked.
type TextKind struct {
	Max       int  // at most this many characters
	Multiline bool // \n, \r and \t are allowed (other control characters never are)
	Bidi      bool // bidirectional embedding, override and isolate controls are allowed
}

// The kinds of text fields.
var (
	TextID              = TextKind{Max: MaxIDLen}
	TextRef             = TextKind{Max: MaxRefLen}
	TextNickname        = TextKind{Max: MaxNicknameLen}
	TextName            = TextKind{Max: MaxNameLen}
	TextLineDescription = TextKind{Max: MaxLineDescriptionLen, Multiline: true}
	TextDescription     = TextKind{Max: MaxDescriptionLen, Multiline: true, Bidi: true}
	TextEmail           = TextKind{Max: MaxEmailLen}
	TextPhone           = TextKind{Max: MaxPhoneLen}
	TextURL             = TextKind{Max: MaxURLLen}
	TextSecret          = TextKind{Max: MaxSecretLen}
	TextCode            = TextKind{Max: MaxCodeLen}
)

// CheckText checks one text field: valid UTF-8, at most k.Max characters, no NUL or other C0/C1
// control character (in multiline text \n, \r and \t are fine), and, unless k.Bidi, no
// bidirectional override, embedding or isolate control (they make a name read differently
// from what it is). The error is CodeInvalid naming the field.
func CheckText(field, s string, k TextKind) error {
	if !utf8.ValidString(s) {
		return Invalid(field, "%s is not valid UTF-8 text", field)
	}
	if n := utf8.RuneCountInString(s); n > k.Max {
		return Invalid(field, "%s is longer than %d characters", field, k.Max)
	}
	for _, r := range s {
		switch {
		case r == 0:
			return Invalid(field, "%s must not contain a NUL character", field)
		case k.Multiline && (r == '\n' || r == '\r' || r == '\t'):
		case IsControl(r):
			return Invalid(field, "%s must not contain control characters (found U+%04X)", field, r)
		case !k.Bidi && IsBidiControl(r):
			return Invalid(field, "%s must not contain bidirectional text controls (found U+%04X)", field, r)
		}
	}
	return nil
}

// IsControl tells whether r is a C0 or C1 control character or DEL.
func IsControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// IsBidiControl tells whether r is a bidirectional embedding, override or isolate control
// (U+202A..U+202E, U+2066..U+2069) or a directional mark (U+200E, U+200F, U+061C).
func IsBidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// HasControl tells whether s holds invalid UTF-8 or a control character: such a string cannot
// be an id, a reference or a query parameter of posbridge's.
func HasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	for _, r := range s {
		if IsControl(r) {
			return true
		}
	}
	return false
}

// PlausibleID tells whether s could be an id or reference at all (short, no control bytes,
// valid UTF-8). A path whose id is not plausible names nothing: 404, never a database error.
func PlausibleID(s string) bool { return len(s) <= 4*MaxIDLen && !HasControl(s) }
