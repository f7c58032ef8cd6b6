package domain

import (
	"errors"
	"fmt"
)

// Code names a kind of failure that callers (and API clients) can tell apart.
type Code string

// The error codes of posbridge. The REST API answers them in {"error":{"code":...}}.
const (
	CodeBadRequest       Code = "bad_request"       // malformed input (not JSON, wrong shape)
	CodeInvalid          Code = "invalid"           // a field has a wrong value; Field names it
	CodeUnauthorized     Code = "unauthorized"      // no or bad credentials of the caller
	CodeForbidden        Code = "forbidden"         // the caller's role may not do this
	CodeNotFound         Code = "not_found"         // no such object in the caller's account
	CodeConflict         Code = "conflict"          // the object's state forbids the action
	CodeTooLarge         Code = "too_large"         // request body over the limit
	CodeInactiveExists   Code = "inactive_exists"   // an inactive integration of that type exists
	CodeNicknameRequired Code = "nickname_required" // a second active integration of a type needs its own nickname
	CodeCalledOff        Code = "called_off"        // the integration is called off; resume it first
	CodeInactive         Code = "inactive"          // the integration is deactivated; restore it first
	CodeUnsupported      Code = "unsupported"       // the provider lacks the capability
	CodeUnavailable      Code = "unavailable"       // the database does not answer for now; retry after Retry-After seconds
	CodeTenantLimit      Code = "tenant_limit"      // the account has as many sandboxes as it may
	CodeInternal         Code = "internal"          // a fault of ours; details are in the log
)

// Error is a coded error. Field names the offending input field, when there is one.
// Details carries extra machine-readable facts (for example the ids of inactive integrations).
type Error struct {
	Code    Code
	Message string
	Field   string
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Message
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a coded error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a wrong value in the named field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that what is named does not exist in the caller's account.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found"}
}

// ErrorCode returns the code of the first *Error in err's chain, or CodeInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode tells whether err carries the code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
