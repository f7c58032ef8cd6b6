package connector

import (
	"errors"
	"fmt"
	"time"
)

// Kind tells callers what to do about a provider error.
type Kind int

// Kinds of provider errors.
const (
	KindTemporary   Kind = iota // 5xx, timeout, network: retry with backoff
	KindCredentials             // 401/403: the credentials are refused; call the integration off
	KindRateLimited             // 429: wait RetryAfter, then retry without counting a failure
	KindInvalid                 // 4xx the provider will answer the same way again: do not retry
	KindNotFound                // 404 on an object
	KindConflict                // version mismatch, state forbids the change
	KindUnsupported             // the provider lacks the capability
)

func (k Kind) String() string {
	switch k {
	case KindTemporary:
		return "temporary"
	case KindCredentials:
		return "credentials"
	case KindRateLimited:
		return "rate_limited"
	case KindInvalid:
		return "invalid"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindUnsupported:
		return "unsupported"
	}
	return "unknown"
}

// Error is a provider error in neutral form, carrying the provider's own message.
type Error struct {
	Kind       Kind
	Status     int           // HTTP status, 0 when none (timeout, network)
	Code       string        // the provider's error code, when it gives one
	Message    string        // the provider's own words
	RetryAfter time.Duration // for KindRateLimited, when the provider says
	Err        error
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil && e.Message == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of err: the Kind of a wrapped *Error, else KindTemporary.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindTemporary
}

// Message returns the provider's own message of err, or err's text.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// KindForStatus maps an HTTP status to a kind.
func KindForStatus(status int) Kind {
	switch {
	case status == 401 || status == 403:
		return KindCredentials
	case status == 429:
		return KindRateLimited
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status >= 500 || status == 408:
		return KindTemporary
	default:
		return KindInvalid
	}
}
