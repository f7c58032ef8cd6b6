package store

import (
	"errors"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/posbridge/posbridge/internal/domain"
)

// ErrBadText is in the chain of the error of a statement refused because a text argument holds a
// NUL byte or invalid UTF-8: PostgreSQL cannot store either (SQLSTATE 22021) and SQLite would
// store what PostgreSQL refuses, so both refuse it here, before the database sees it. The error
// is a *domain.Error with CodeInvalid (HTTP 422), never an internal error.
var ErrBadText = errors.New("text holds a NUL byte or invalid UTF-8")

func badText(cause error) error {
	return &domain.Error{Code: domain.CodeInvalid, Message: "text must not contain NUL characters or invalid UTF-8", Err: errors.Join(ErrBadText, cause)}
}

// checkArgs refuses string arguments that no database of ours can hold.
func checkArgs(args []any) error {
	for _, a := range args {
		var s string
		switch v := a.(type) {
		case nil:
			continue
		case string:
			s = v
		case *string:
			if v == nil {
				continue
			}
			s = *v
		case []byte, int, int64, int32, bool, float64, *int64, *int:
			continue
		default:
			rv := reflect.ValueOf(a)
			if rv.Kind() == reflect.Pointer && !rv.IsNil() {
				rv = rv.Elem()
			}
			if rv.Kind() != reflect.String {
				continue
			}
			s = rv.String()
		}
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return badText(nil)
		}
	}
	return nil
}

// mapDBError turns PostgreSQL's refusals of text (22021 character_not_in_repertoire, 22P05
// untranslatable_character) into ErrBadText, should one get past checkArgs (say inside JSON).
func mapDBError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05") {
		return badText(err)
	}
	return err
}
