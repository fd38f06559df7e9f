package users

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
)

var cheap = PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func TestPasswordHashIsArgon2idInPHCFormatWithTheConfiguredCost(t *testing.T) {
	p := NewPasswords(PasswordParams{Memory: 128, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32})
	hash, err := p.Hash(context.Background(), "correct horse")
	require.NoError(t, err)

	assert.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=128,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), hash)
	assert.NotContains(t, hash, "correct horse")
}

func TestPasswordVerifyAcceptsOnlyTheSamePassword(t *testing.T) {
	p := NewPasswords(cheap)
	ctx := context.Background()
	hash, err := p.Hash(ctx, "correct horse")
	require.NoError(t, err)

	ok, err := p.Verify(ctx, "correct horse", hash)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = p.Verify(ctx, "correct horsE", hash)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestPasswordHashesOfOnePasswordDifferBySalt(t *testing.T) {
	p := NewPasswords(cheap)
	a, err := p.Hash(context.Background(), "same password")
	require.NoError(t, err)
	b, err := p.Hash(context.Background(), "same password")
	require.NoError(t, err)
	assert.NotEqual(t, a, b)
}

func TestPasswordVerifyUsesTheCostStoredInTheHash(t *testing.T) {
	old := NewPasswords(PasswordParams{Memory: 256, Iterations: 3, Parallelism: 2, SaltLength: 16, KeyLength: 32})
	hash, err := old.Hash(context.Background(), "old password")
	require.NoError(t, err)

	ok, err := NewPasswords(cheap).Verify(context.Background(), "old password", hash)
	require.NoError(t, err)
	assert.True(t, ok, "a hash made with other parameters still verifies")
}

func TestPasswordVerifyRefusesMalformedOrAbusiveHashes(t *testing.T) {
	p := NewPasswords(cheap)
	for _, hash := range []string{
		"",
		"plain text",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=100000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
	} {
		ok, err := p.Verify(context.Background(), "anything", hash)
		assert.Error(t, err, "hash %q", hash)
		assert.False(t, ok)
	}
}

func TestDefaultPasswordParamsMeetOWASPMinimum(t *testing.T) {
	d := DefaultPasswordParams
	assert.GreaterOrEqual(t, d.Memory, uint32(19*1024))
	assert.GreaterOrEqual(t, d.Iterations, uint32(2))
	assert.GreaterOrEqual(t, d.SaltLength, uint32(16))
	assert.GreaterOrEqual(t, d.KeyLength, uint32(32))
}

// emailOnlyStore answers UserByEmail from a map; a login needs nothing more
// before it decides.
type emailOnlyStore struct {
	Store
	byEmail map[string]User
}

func (s emailOnlyStore) UserByEmail(_ context.Context, email string) (User, error) {
	if u, ok := s.byEmail[email]; ok {
		return u, nil
	}
	return User{}, ErrNotFound
}

func TestLoginWithAnUnknownEmailSpendsOneHashLikeAWrongPassword(t *testing.T) {
	ctx := context.Background()
	pw := NewPasswords(cheap)
	hash, err := pw.Hash(ctx, "the right password")
	require.NoError(t, err)
	store := emailOnlyStore{byEmail: map[string]User{
		"known@example.com": {ID: uuid.New(), Email: "known@example.com", PasswordHash: hash, Status: StatusActive},
	}}
	s := NewService(store, nil, WithPasswordParams(cheap))
	_, _ = s.dummy(ctx) // made once per process, outside any timed login

	hashesOf := func(email string) int64 {
		before := s.passwords.computed.Load()
		_, err := s.Login(ctx, email, "a wrong password")
		require.Equal(t, apperr.Unauthenticated, apperr.KindOf(err))
		return s.passwords.computed.Load() - before
	}
	assert.Equal(t, int64(1), hashesOf("known@example.com"))
	assert.Equal(t, int64(1), hashesOf("unknown@example.com"))
}

func TestLoginRefusesAnOversizedPasswordWithoutHashingIt(t *testing.T) {
	s := NewService(emailOnlyStore{}, nil, WithPasswordParams(cheap))
	_, _ = s.dummy(context.Background())
	before := s.passwords.computed.Load()

	_, err := s.Login(context.Background(), "a@example.com", strings.Repeat("x", 1<<20))

	assert.Equal(t, apperr.Unauthenticated, apperr.KindOf(err))
	assert.Equal(t, before, s.passwords.computed.Load())
}

func TestEmailRules(t *testing.T) {
	valid := []string{"a@example.com", "first.last+tag@sub.example.co.uk", "x@b.io"}
	for _, e := range valid {
		assert.Empty(t, checkEmail(NormalizeEmail(e)), e)
	}
	invalid := []string{
		"", "plain", "@example.com", "a@", "a@localhost", "a@example.", "a@.example.com",
		"Joe <joe@example.com>", "joe@example.com (Joe)", "a b@example.com",
		"' OR 1=1; DROP TABLE users;--@x.io",
		strings.Repeat("a", 250) + "@example.com",
	}
	for _, e := range invalid {
		assert.NotEmpty(t, checkEmail(NormalizeEmail(e)), e)
	}
	assert.Equal(t, "mixed@example.com", NormalizeEmail("  MiXed@Example.COM \t"))
}

func TestPasswordRules(t *testing.T) {
	assert.NotEmpty(t, checkPassword("short7!"))
	assert.Empty(t, checkPassword("exactly8"))
	assert.Empty(t, checkPassword(strings.Repeat("é", 128)), "128 characters, counted as characters not bytes")
	assert.NotEmpty(t, checkPassword(strings.Repeat("a", 129)))
	assert.NotEmpty(t, checkPassword("bad utf8 \xff\xfe"))
}

func TestNameRules(t *testing.T) {
	name, problem := normalizeName("  Ada Lovelace  ")
	assert.Equal(t, "Ada Lovelace", name)
	assert.Empty(t, problem)
	for _, bad := range []string{"", "   ", strings.Repeat("n", 101), "new\nline"} {
		_, problem := normalizeName(bad)
		assert.NotEmpty(t, problem, "%q", bad)
	}
	_, problem = normalizeName(strings.Repeat("ñ", 100))
	assert.Empty(t, problem)
}

func TestRolesAreCheckedAndPutInCanonicalOrder(t *testing.T) {
	roles, err := normalizeRoles([]string{"customer", "admin", "customer"})
	require.NoError(t, err)
	assert.Equal(t, []string{"admin", "customer"}, roles)

	for _, bad := range [][]string{nil, {}, {"root"}, {"customer", "Admin"}} {
		_, err := normalizeRoles(bad)
		assert.Equal(t, apperr.Invalid, apperr.KindOf(err), "%q", bad)
	}
}

func TestPageTokensRoundTripAndRefuseForgeries(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	got, ok := decodePageToken(encodePageToken(id))
	assert.True(t, ok)
	assert.Equal(t, id, got)

	for _, bad := range []string{"x", "not base64!", encodePageToken(id)[1:], "dQ"} {
		_, ok := decodePageToken(bad)
		assert.False(t, ok, bad)
	}
}
