package users_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/apperr"
	"github.com/faas-shop/faas-shop/shared/platform/auth"
	"github.com/faas-shop/faas-shop/shared/platform/database"
	"github.com/faas-shop/faas-shop/shared/platform/pgtest"
	"github.com/faas-shop/faas-shop/shared/users"
	"github.com/faas-shop/faas-shop/shared/users/pgstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// cheap argon2id parameters keep the tests fast; production uses
// users.DefaultPasswordParams.
var cheap = users.PasswordParams{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

const password = "correct horse battery"

type env struct {
	svc      *users.Service
	pool     *pgxpool.Pool
	verifier *auth.Verifier
}

// newEnv returns a Service on the package's migrated database, signing with
// a fresh key, plus a verifier for its tokens.
func newEnv(t *testing.T, opts ...users.Option) env {
	t.Helper()
	pool := pgtest.Pool(t)
	require.NoError(t, database.Migrate(context.Background(), pool, "users", pgstore.Migrations))
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer := auth.NewSigner(key, users.AccessTokenTTL)
	return env{
		svc:      users.NewService(pgstore.New(pool), signer, append([]users.Option{users.WithPasswordParams(cheap)}, opts...)...),
		pool:     pool,
		verifier: auth.NewVerifier(auth.StaticKeys{signer.KeyID(): signer.PublicKey()}),
	}
}

// email returns an address no other test uses.
func email(t *testing.T) string {
	return strings.ToLower(fmt.Sprintf("%s-%s@example.com",
		strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()), uuid.NewString()[:8]))
}

func (e env) register(t *testing.T) users.User {
	t.Helper()
	u, err := e.svc.Register(context.Background(), users.Registration{Email: email(t), Password: password, Name: "Test User"})
	require.NoError(t, err)
	return u
}

func (e env) login(t *testing.T, u users.User) users.Session {
	t.Helper()
	s, err := e.svc.Login(context.Background(), u.Email, password)
	require.NoError(t, err)
	return s
}

// admin registers a user and makes them an admin directly in the database.
func (e env) admin(t *testing.T) users.User {
	t.Helper()
	u := e.register(t)
	_, err := e.pool.Exec(context.Background(), `UPDATE users SET roles = '{admin,customer}' WHERE id = $1`, u.ID)
	require.NoError(t, err)
	u.Roles = []string{auth.RoleAdmin, auth.RoleCustomer}
	return u
}

func requireKind(t *testing.T, want apperr.Kind, err error) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, want, apperr.KindOf(err), "error: %v", err)
}

func (e env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestRegisterCreatesACustomerWithANormalisedEmailAndHashedPassword(t *testing.T) {
	e := newEnv(t)
	addr := email(t)

	u, err := e.svc.Register(context.Background(), users.Registration{
		Email: "  " + strings.ToUpper(addr) + " ", Password: password, Name: "  Ada Lovelace ",
	})

	require.NoError(t, err)
	assert.Equal(t, addr, u.Email)
	assert.Equal(t, "Ada Lovelace", u.Name)
	assert.Equal(t, []string{auth.RoleCustomer}, u.Roles)
	assert.Equal(t, users.StatusActive, u.Status)
	assert.Equal(t, uuid.Version(7), u.ID.Version(), "ids are UUIDv7")
	var hash string
	require.NoError(t, e.pool.QueryRow(context.Background(), `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash))
	assert.True(t, strings.HasPrefix(hash, "$argon2id$v=19$"), hash)
	assert.NotContains(t, hash, password)
}

func TestRegisterRefusesADuplicateEmailWhateverItsCase(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)

	_, err := e.svc.Register(context.Background(), users.Registration{Email: strings.ToUpper(u.Email), Password: password, Name: "Other"})

	requireKind(t, apperr.Conflict, err)
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM users WHERE lower(email) = $1`, u.Email))
}

func TestRegisterReportsEveryInvalidFieldAndStoresNothing(t *testing.T) {
	e := newEnv(t)
	cases := map[string]struct {
		in    users.Registration
		field string
	}{
		"sql in email":      {users.Registration{Email: "' OR 1=1; DROP TABLE users;--@x.io", Password: password, Name: "x"}, "email"},
		"no domain":         {users.Registration{Email: "someone@localhost", Password: password, Name: "x"}, "email"},
		"display name":      {users.Registration{Email: "Joe <joe@example.com>", Password: password, Name: "x"}, "email"},
		"email too long":    {users.Registration{Email: strings.Repeat("a", 250) + "@example.com", Password: password, Name: "x"}, "email"},
		"short password":    {users.Registration{Email: "a@example.com", Password: "1234567", Name: "x"}, "password"},
		"long password":     {users.Registration{Email: "a@example.com", Password: strings.Repeat("p", 129), Name: "x"}, "password"},
		"blank name":        {users.Registration{Email: "a@example.com", Password: password, Name: "   "}, "name"},
		"name too long":     {users.Registration{Email: "a@example.com", Password: password, Name: strings.Repeat("n", 101)}, "name"},
		"everything absent": {users.Registration{}, "email"},
	}
	before := e.count(t, `SELECT count(*) FROM users`)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.svc.Register(context.Background(), c.in)
			requireKind(t, apperr.Invalid, err)
			ae, _ := apperr.As(err)
			assert.Contains(t, ae.Fields, c.field)
		})
	}
	_, err := e.svc.Register(context.Background(), users.Registration{})
	ae, _ := apperr.As(err)
	assert.Len(t, ae.Fields, 3, "all three fields are reported at once")
	assert.Equal(t, before, e.count(t, `SELECT count(*) FROM users`))
}

func TestLoginIssuesAVerifiableAccessTokenAndAnOpaqueRefreshToken(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)

	s, err := e.svc.Login(context.Background(), "  "+strings.ToUpper(u.Email), password)

	require.NoError(t, err)
	assert.Equal(t, "Bearer", s.TokenType)
	assert.InDelta(t, 900, s.ExpiresIn, 2)
	claims, err := e.verifier.Verify(context.Background(), s.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, u.ID.String(), claims.Subject)
	assert.Equal(t, []string{auth.RoleCustomer}, claims.Roles)
	assert.WithinDuration(t, time.Now().Add(15*time.Minute), claims.ExpiresAt.Time, 5*time.Second)

	assert.Regexp(t, `^[A-Za-z0-9_-]{43}$`, s.RefreshToken, "32 random bytes in base64url")
	sum := sha256.Sum256([]byte(s.RefreshToken))
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND token_hash = $2
		AND expires_at BETWEEN now() + interval '29 days 23 hours' AND now() + interval '30 days 1 hour'`, u.ID, sum[:]))
	assert.Equal(t, 0, e.count(t, `SELECT count(*) FROM refresh_tokens WHERE convert_to($1, 'UTF8') IN (token_hash)`, s.RefreshToken),
		"the token itself is never stored")
}

func TestLoginGivesTheSameAnswerForAWrongPasswordAndAnUnknownEmail(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)

	_, wrongPassword := e.svc.Login(context.Background(), u.Email, "not the password")
	_, unknownEmail := e.svc.Login(context.Background(), "nobody-"+u.Email, password)

	requireKind(t, apperr.Unauthenticated, wrongPassword)
	requireKind(t, apperr.Unauthenticated, unknownEmail)
	assert.Equal(t, wrongPassword.Error(), unknownEmail.Error())
	assert.Equal(t, 0, e.count(t, `SELECT count(*) FROM refresh_tokens WHERE user_id = $1`, u.ID))
}

func TestLoginOfASuspendedAccountIsForbiddenOnlyOnceThePasswordIsRight(t *testing.T) {
	e := newEnv(t)
	admin, u := e.admin(t), e.register(t)
	_, err := e.svc.Suspend(context.Background(), admin.ID, u.ID)
	require.NoError(t, err)

	_, wrong := e.svc.Login(context.Background(), u.Email, "not the password")
	_, right := e.svc.Login(context.Background(), u.Email, password)

	requireKind(t, apperr.Unauthenticated, wrong)
	requireKind(t, apperr.Forbidden, right)
}

func TestRefreshRotatesTheTokenWithinItsFamily(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)
	first := e.login(t, u)

	second, err := e.svc.Refresh(context.Background(), first.RefreshToken)

	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, second.RefreshToken)
	claims, err := e.verifier.Verify(context.Background(), second.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, u.ID.String(), claims.Subject)
	oldHash, newHash := sha256.Sum256([]byte(first.RefreshToken)), sha256.Sum256([]byte(second.RefreshToken))
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM refresh_tokens o JOIN refresh_tokens n ON n.id = o.replaced_by
		WHERE o.token_hash = $1 AND n.token_hash = $2 AND o.used_at IS NOT NULL AND o.family_id = n.family_id
		AND n.used_at IS NULL AND n.revoked_at IS NULL`, oldHash[:], newHash[:]))

	third, err := e.svc.Refresh(context.Background(), second.RefreshToken)
	require.NoError(t, err, "the new token is itself refreshable")
	assert.NotEqual(t, second.RefreshToken, third.RefreshToken)
}

func TestRefreshWithARotatedTokenRevokesItsWholeFamilyOnly(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)
	stolen := e.login(t, u)
	otherDevice := e.login(t, u)
	rotated, err := e.svc.Refresh(context.Background(), stolen.RefreshToken)
	require.NoError(t, err)

	_, reuse := e.svc.Refresh(context.Background(), stolen.RefreshToken)

	requireKind(t, apperr.Unauthenticated, reuse)
	_, err = e.svc.Refresh(context.Background(), rotated.RefreshToken)
	requireKind(t, apperr.Unauthenticated, err)
	_, err = e.svc.Refresh(context.Background(), otherDevice.RefreshToken)
	assert.NoError(t, err, "a session from another login is a different family")
}

// barrier holds each of n callers until all n have arrived, or until
// timeout has passed for that caller. When the code under test serialises
// them (a row lock), the callers arrive one at a time and each waits out the
// timeout; when it does not, they all arrive together and race.
type barrier struct {
	n       int
	timeout time.Duration
	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func newBarrier(n int, timeout time.Duration) *barrier {
	return &barrier{n: n, timeout: timeout, all: make(chan struct{})}
}

func (b *barrier) wait() {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(b.timeout):
	}
}

// racingStore makes concurrent commands meet right after they read the row
// they are about to change, the moment a missing lock would let them race.
type racingStore struct {
	users.Store
	b *barrier
}

func (s racingStore) Atomically(ctx context.Context, fn func(users.Tx) error) error {
	return s.Store.Atomically(ctx, func(tx users.Tx) error { return fn(racingTx{tx, s.b}) })
}

type racingTx struct {
	users.Tx
	b *barrier
}

func (t racingTx) LockRefreshToken(ctx context.Context, h users.TokenHash) (users.RefreshToken, error) {
	r, err := t.Tx.LockRefreshToken(ctx, h)
	t.b.wait()
	return r, err
}

func (t racingTx) LockUserByEmail(ctx context.Context, email string) (users.User, error) {
	u, err := t.Tx.LockUserByEmail(ctx, email)
	t.b.wait()
	return u, err
}

func TestConcurrentRefreshesOfOneTokenLetExactlyOneSucceed(t *testing.T) {
	e := newEnv(t)
	s := e.login(t, e.register(t))
	const n = 4
	racing := users.NewService(racingStore{pgstore.New(e.pool), newBarrier(n, 100*time.Millisecond)}, signerOf(t),
		users.WithPasswordParams(cheap))

	var (
		wg       sync.WaitGroup
		wins     atomic.Int32
		refusals atomic.Int32
		winner   atomic.Value
	)
	for range n {
		wg.Go(func() {
			got, err := racing.Refresh(context.Background(), s.RefreshToken)
			switch {
			case err == nil:
				wins.Add(1)
				winner.Store(got)
			case apperr.KindOf(err) == apperr.Unauthenticated:
				refusals.Add(1)
			}
		})
	}
	wg.Wait()

	require.Equal(t, int32(1), wins.Load())
	assert.Equal(t, int32(n-1), refusals.Load())
	// The losers presented a used token: reuse, so the family is revoked and
	// even the winner's new token is dead.
	_, err := e.svc.Refresh(context.Background(), winner.Load().(users.Session).RefreshToken)
	requireKind(t, apperr.Unauthenticated, err)
}

func signerOf(t *testing.T) *auth.Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return auth.NewSigner(key, users.AccessTokenTTL)
}

func TestRefreshRefusesAnExpiredToken(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e := newEnv(t, users.WithClock(clock))
	s := e.login(t, e.register(t))

	now = now.Add(users.RefreshTokenTTL + time.Second)
	_, err := e.svc.Refresh(context.Background(), s.RefreshToken)

	requireKind(t, apperr.Unauthenticated, err)
	assert.Contains(t, err.Error(), "expired")
}

func TestRefreshRefusesUnknownAndMalformedTokens(t *testing.T) {
	e := newEnv(t)
	for _, token := range []string{
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // well formed, never issued
		"not a token",
		strings.Repeat("A", 10000),
		"' OR 1=1; --",
	} {
		_, err := e.svc.Refresh(context.Background(), token)
		requireKind(t, apperr.Unauthenticated, err)
	}
	_, err := e.svc.Refresh(context.Background(), "")
	requireKind(t, apperr.Invalid, err)
}

func TestSuspendRevokesEveryRefreshTokenOfTheUser(t *testing.T) {
	e := newEnv(t)
	admin, u := e.admin(t), e.register(t)
	a, b := e.login(t, u), e.login(t, u)

	got, err := e.svc.Suspend(context.Background(), admin.ID, u.ID)

	require.NoError(t, err)
	assert.Equal(t, users.StatusSuspended, got.Status)
	for _, s := range []users.Session{a, b} {
		_, err := e.svc.Refresh(context.Background(), s.RefreshToken)
		requireKind(t, apperr.Unauthenticated, err)
	}
	assert.Equal(t, 0, e.count(t, `SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL`, u.ID))
}

func TestASuspendedUserCannotRefreshEvenWithAnUnrevokedToken(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)
	s := e.login(t, u)
	_, err := e.pool.Exec(context.Background(), `UPDATE users SET status = 'suspended' WHERE id = $1`, u.ID)
	require.NoError(t, err)

	_, err = e.svc.Refresh(context.Background(), s.RefreshToken)

	requireKind(t, apperr.Forbidden, err)
}

func TestSuspendRefusesToSuspendOneself(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t)

	_, err := e.svc.Suspend(context.Background(), admin.ID, admin.ID)

	requireKind(t, apperr.Conflict, err)
	me, err := e.svc.Me(context.Background(), admin.ID)
	require.NoError(t, err)
	assert.Equal(t, users.StatusActive, me.Status)
}

func TestLogoutRevokesTheFamilyOfTheCallersToken(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)
	s := e.login(t, u)
	other := e.login(t, u)
	rotated, err := e.svc.Refresh(context.Background(), s.RefreshToken)
	require.NoError(t, err)

	require.NoError(t, e.svc.Logout(context.Background(), u.ID, rotated.RefreshToken))

	_, err = e.svc.Refresh(context.Background(), rotated.RefreshToken)
	requireKind(t, apperr.Unauthenticated, err)
	_, err = e.svc.Refresh(context.Background(), other.RefreshToken)
	assert.NoError(t, err, "logout ends one session, not every session")
	assert.NoError(t, e.svc.Logout(context.Background(), u.ID, rotated.RefreshToken), "logging out twice is fine")
}

func TestLogoutLeavesAnotherUsersTokenAlone(t *testing.T) {
	e := newEnv(t)
	victim, attacker := e.register(t), e.register(t)
	s := e.login(t, victim)

	err := e.svc.Logout(context.Background(), attacker.ID, s.RefreshToken)

	require.NoError(t, err, "no hint whether the token exists")
	_, err = e.svc.Refresh(context.Background(), s.RefreshToken)
	assert.NoError(t, err)
}

func TestMeReturnsTheProfileOfAnActiveAccountOnly(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)

	me, err := e.svc.Me(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, u.Email, me.Email)
	assert.Equal(t, int64(0), me.CreditLimitCents)

	_, err = e.svc.Me(context.Background(), uuid.New())
	requireKind(t, apperr.Unauthenticated, err)

	_, err = e.pool.Exec(context.Background(), `UPDATE users SET status = 'suspended' WHERE id = $1`, u.ID)
	require.NoError(t, err)
	_, err = e.svc.Me(context.Background(), u.ID)
	requireKind(t, apperr.Forbidden, err)
}

func TestUpdateProfileChangesTheNameOnly(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)
	name := "  Grace Hopper "

	got, err := e.svc.UpdateProfile(context.Background(), u.ID, users.ProfileChanges{Name: &name})

	require.NoError(t, err)
	assert.Equal(t, "Grace Hopper", got.Name)
	me, err := e.svc.Me(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, "Grace Hopper", me.Name)
	assert.Equal(t, u.Email, me.Email)

	blank := " "
	_, err = e.svc.UpdateProfile(context.Background(), u.ID, users.ProfileChanges{Name: &blank})
	requireKind(t, apperr.Invalid, err)
	unchanged, err := e.svc.UpdateProfile(context.Background(), u.ID, users.ProfileChanges{})
	require.NoError(t, err)
	assert.Equal(t, "Grace Hopper", unchanged.Name)
}

func TestSetRolesReplacesRolesAndReachesTheNextAccessToken(t *testing.T) {
	e := newEnv(t)
	admin, u := e.admin(t), e.register(t)
	s := e.login(t, u)

	got, err := e.svc.SetRoles(context.Background(), admin.ID, u.ID, []string{"customer", "admin", "admin"})

	require.NoError(t, err)
	assert.Equal(t, []string{auth.RoleAdmin, auth.RoleCustomer}, got.Roles)
	next, err := e.svc.Refresh(context.Background(), s.RefreshToken)
	require.NoError(t, err)
	claims, err := e.verifier.Verify(context.Background(), next.AccessToken)
	require.NoError(t, err)
	assert.True(t, claims.HasRole(auth.RoleAdmin))
}

func TestSetRolesRules(t *testing.T) {
	e := newEnv(t)
	admin, customer := e.admin(t), e.register(t)
	ctx := context.Background()

	_, err := e.svc.SetRoles(ctx, admin.ID, customer.ID, []string{"root"})
	requireKind(t, apperr.Invalid, err)
	_, err = e.svc.SetRoles(ctx, admin.ID, customer.ID, nil)
	requireKind(t, apperr.Invalid, err)
	_, err = e.svc.SetRoles(ctx, admin.ID, admin.ID, []string{auth.RoleCustomer})
	requireKind(t, apperr.Conflict, err)
	_, err = e.svc.SetRoles(ctx, customer.ID, customer.ID, []string{auth.RoleAdmin})
	requireKind(t, apperr.Forbidden, err)
	_, err = e.svc.SetRoles(ctx, admin.ID, uuid.New(), []string{auth.RoleCustomer})
	requireKind(t, apperr.NotFound, err)

	me, err := e.svc.Me(ctx, admin.ID)
	require.NoError(t, err)
	assert.True(t, me.HasRole(auth.RoleAdmin))
	c, err := e.svc.Me(ctx, customer.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{auth.RoleCustomer}, c.Roles)
}

func TestAdminCommandsCheckTheActorsStoredRolesNotOnlyTheToken(t *testing.T) {
	e := newEnv(t)
	admin, u := e.admin(t), e.register(t)
	_, err := e.pool.Exec(context.Background(), `UPDATE users SET roles = '{customer}' WHERE id = $1`, admin.ID)
	require.NoError(t, err)

	_, err = e.svc.SetCreditLimit(context.Background(), admin.ID, u.ID, 100)
	requireKind(t, apperr.Forbidden, err)
	_, err = e.svc.ListUsers(context.Background(), admin.ID, users.ListQuery{})
	requireKind(t, apperr.Forbidden, err)
}

func TestSetCreditLimit(t *testing.T) {
	e := newEnv(t)
	admin, u := e.admin(t), e.register(t)
	ctx := context.Background()

	got, err := e.svc.SetCreditLimit(ctx, admin.ID, u.ID, 150_00)
	require.NoError(t, err)
	assert.Equal(t, int64(150_00), got.CreditLimitCents)
	me, err := e.svc.Me(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(150_00), me.CreditLimitCents)

	_, err = e.svc.SetCreditLimit(ctx, admin.ID, u.ID, -1)
	requireKind(t, apperr.Invalid, err)
	_, err = e.svc.SetCreditLimit(ctx, admin.ID, uuid.New(), 0)
	requireKind(t, apperr.NotFound, err)
	me, err = e.svc.Me(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(150_00), me.CreditLimitCents)
}

func TestListUsersPagesThroughEveryUserOnceInCreationOrder(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t)
	created := map[uuid.UUID]bool{}
	for range 17 {
		created[e.register(t).ID] = true
	}

	var (
		seen  []uuid.UUID
		token string
		pages int
	)
	for {
		page, err := e.svc.ListUsers(context.Background(), admin.ID, users.ListQuery{PageSize: 5, PageToken: token})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Users), 5)
		for _, u := range page.Users {
			seen = append(seen, u.ID)
		}
		pages++
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}

	assert.Equal(t, e.count(t, `SELECT count(*) FROM users`), len(seen), "every user, none twice")
	for i := 1; i < len(seen); i++ {
		assert.Negative(t, strings.Compare(seen[i-1].String(), seen[i].String()), "ordered by id")
	}
	for id := range created {
		assert.Contains(t, seen, id)
	}
	assert.Equal(t, (len(seen)+4)/5, pages)
}

func TestListUsersPageSizeAndTokenRules(t *testing.T) {
	e := newEnv(t)
	admin := e.admin(t)
	for range 21 {
		e.register(t)
	}
	ctx := context.Background()

	page, err := e.svc.ListUsers(ctx, admin.ID, users.ListQuery{})
	require.NoError(t, err)
	assert.Len(t, page.Users, users.DefaultPageSize)
	assert.NotEmpty(t, page.NextPageToken)

	for _, q := range []users.ListQuery{{PageSize: 101}, {PageSize: -1}, {PageToken: "garbage"}} {
		_, err := e.svc.ListUsers(ctx, admin.ID, q)
		requireKind(t, apperr.Invalid, err)
	}
	_, err = e.svc.ListUsers(ctx, e.register(t).ID, users.ListQuery{})
	requireKind(t, apperr.Forbidden, err)
}

func TestSeedAdminConcurrentlyCreatesOneAdminWhoCanLogIn(t *testing.T) {
	e := newEnv(t)
	addr := email(t)

	const seeders = 4
	errs := make([]error, seeders)
	var wg sync.WaitGroup
	// Every seeder finds no account before any of them creates it.
	b := newBarrier(seeders, 100*time.Millisecond)
	for i := range seeders {
		// One Service per seeder, as separate functions or replicas have.
		svc := users.NewService(racingStore{pgstore.New(e.pool), b}, nil, users.WithPasswordParams(cheap))
		wg.Go(func() { errs[i] = svc.SeedAdmin(context.Background(), strings.ToUpper(addr), password) })
	}
	wg.Wait()

	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, 1, e.count(t, `SELECT count(*) FROM users WHERE email = $1 AND roles = '{admin,customer}'`, addr))
	s, err := e.svc.Login(context.Background(), addr, password)
	require.NoError(t, err)
	claims, err := e.verifier.Verify(context.Background(), s.AccessToken)
	require.NoError(t, err)
	assert.True(t, claims.HasRole(auth.RoleAdmin))

	require.NoError(t, e.svc.SeedAdmin(context.Background(), addr, "a different password"), "seeding again changes nothing")
	_, err = e.svc.Login(context.Background(), addr, password)
	assert.NoError(t, err, "the existing admin keeps their password")
}

func TestSeedAdminNeverPromotesAnExistingCustomer(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)

	err := e.svc.SeedAdmin(context.Background(), u.Email, "some other password")
	require.ErrorIs(t, err, users.ErrAdminEmailTaken)

	me, err := e.svc.Me(context.Background(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{auth.RoleCustomer}, me.Roles, "whoever registered the address first does not become admin")
}

func TestSeedAdminRefusesInvalidSecrets(t *testing.T) {
	e := newEnv(t)
	requireKind(t, apperr.Invalid, e.svc.SeedAdmin(context.Background(), "not an email", password))
	requireKind(t, apperr.Invalid, e.svc.SeedAdmin(context.Background(), email(t), "short"))
}

func TestTheDatabaseKeepsEmailsUniqueWhateverTheCase(t *testing.T) {
	e := newEnv(t)
	u := e.register(t)

	// Even a writer that skipped normalisation cannot duplicate an email.
	_, err := e.pool.Exec(context.Background(), `INSERT INTO users (id, email, name, password_hash) VALUES ($1, $2, 'x', 'x')`,
		uuid.New(), strings.ToUpper(u.Email))
	require.Error(t, err)
	_, err = e.pool.Exec(context.Background(), `INSERT INTO users (id, email, name, password_hash, credit_limit_cents) VALUES ($1, $2, 'x', 'x', -1)`,
		uuid.New(), "neg-"+u.Email)
	require.Error(t, err, "a negative credit limit is refused by the table too")
}
