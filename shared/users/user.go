package users

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
)

// Status is whether an account may sign in.
type Status string

// The statuses of an account.
const (
	StatusActive    Status = "active"    // may sign in
	StatusSuspended Status = "suspended" // refused at login, refresh and /v1/me
)

// KnownRoles are the roles an account may hold, in their canonical order.
var KnownRoles = []string{auth.RoleAdmin, auth.RoleCustomer}

// User is an account.
type User struct {
	// ID is a UUIDv7, so ids sort in creation order.
	ID    uuid.UUID
	Email string // normalised: trimmed and lower case
	Name  string
	// PasswordHash is the argon2id PHC string; it never leaves the service.
	PasswordHash     string `json:"-"`
	Roles            []string
	Status           Status
	CreditLimitCents int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// HasRole reports whether the user holds role.
func (u User) HasRole(role string) bool { return slices.Contains(u.Roles, role) }

// Limits on what a client may send.
const (
	MinPasswordLength = 8   // characters
	MaxPasswordLength = 128 // characters; a longer one is refused before any hashing
	MaxEmailLength    = 254 // octets, the SMTP limit
	MaxNameLength     = 100 // characters, after trimming
)

// NormalizeEmail returns the email as stored: trimmed and lower case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// checkEmail returns what is wrong with a normalised email, or "".
func checkEmail(email string) string {
	if email == "" {
		return "is required"
	}
	if len(email) > MaxEmailLength {
		return "must be at most 254 characters"
	}
	addr, err := mail.ParseAddress(email)
	// A bare address only: no display name, comments or angle brackets.
	if err != nil || addr.Name != "" || addr.Address != email {
		return "must be an email address such as name@example.com"
	}
	at := strings.LastIndexByte(email, '@')
	domain := email[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, "[") {
		return "must have a domain such as example.com"
	}
	return ""
}

// checkPassword returns what is wrong with a new password, or "".
func checkPassword(password string) string {
	if !utf8.ValidString(password) {
		return "must be valid UTF-8"
	}
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		return "must be at least 8 characters"
	case n > MaxPasswordLength:
		return "must be at most 128 characters"
	}
	return ""
}

// normalizeName trims the name and returns what is wrong with it, or "".
func normalizeName(name string) (string, string) {
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return name, "must be valid UTF-8"
	case n == 0:
		return name, "is required"
	case n > MaxNameLength:
		return name, "must be at most 100 characters"
	}
	if strings.ContainsFunc(name, unicode.IsControl) {
		return name, "must not contain control characters"
	}
	return name, ""
}

// normalizeRoles checks roles against KnownRoles and returns them without
// duplicates in canonical order.
func normalizeRoles(roles []string) ([]string, error) {
	if len(roles) == 0 {
		return nil, apperr.Validation("the roles are not valid", map[string]string{"roles": "must list at least one role"})
	}
	var out []string
	for _, known := range KnownRoles {
		if slices.Contains(roles, known) {
			out = append(out, known)
		}
	}
	for _, r := range roles {
		if !slices.Contains(KnownRoles, r) {
			return nil, apperr.Validation("the roles are not valid",
				map[string]string{"roles": "unknown role " + quote(r) + "; the roles are " + strings.Join(KnownRoles, ", ")})
		}
	}
	return out, nil
}

// quote shows a client's value in a message, shortened so that a huge value
// is not echoed back.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// SubjectID returns the user id an access token's subject names, or an
// Unauthenticated error when it names none.
func SubjectID(subject string) (uuid.UUID, error) {
	id, err := uuid.Parse(subject)
	if err != nil {
		return uuid.Nil, apperr.New(apperr.Unauthenticated, "the access token does not name a user")
	}
	return id, nil
}
