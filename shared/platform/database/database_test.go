package database_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/database"
	"github.com/faas-shop/faas-shop/shared/platform/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var migrations = fstest.MapFS{
	"0001_create_things.sql": {Data: []byte(`CREATE TABLE things (id int PRIMARY KEY, name text NOT NULL UNIQUE);`)},
	"0002_add_count.sql":     {Data: []byte(`ALTER TABLE things ADD COLUMN count int NOT NULL DEFAULT 0;`)},
}

func TestConcurrentMigrationsApplyEachVersionOnce(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)

	// Five functions of one service starting at once: without the advisory
	// lock, CREATE TABLE would fail in all but one.
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Go(func() { errs[i] = database.Migrate(ctx, pool, "things", migrations) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	var versions []int32
	rows, err := pool.Query(ctx, "SELECT version FROM schema_migrations WHERE scope = 'things' ORDER BY version")
	require.NoError(t, err)
	versions, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	assert.Equal(t, []int32{1, 2}, versions)

	_, err = pool.Exec(ctx, "INSERT INTO things (id, name, count) VALUES (1, 'a', 2)")
	require.NoError(t, err, "both migrations are in effect")
}

func TestAFailingMigrationLeavesNothingHalfApplied(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	broken := fstest.MapFS{
		"0001_ok.sql":     {Data: []byte(`CREATE TABLE half (id int);`)},
		"0002_broken.sql": {Data: []byte(`CREATE TABLE half_two (id int); SELECT * FROM no_such_table;`)},
	}
	err := database.Migrate(ctx, pool, "half", broken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "0002_broken")

	var exists bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass('half_two') IS NOT NULL").Scan(&exists))
	assert.False(t, exists, "the failed migration's own statements are rolled back")
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass('half') IS NOT NULL").Scan(&exists))
	assert.True(t, exists, "earlier migrations stay applied")
}

func TestMigrationNamesMustCarryAVersion(t *testing.T) {
	_, err := database.LoadMigrations(fstest.MapFS{"create.sql": {Data: []byte("SELECT 1")}})
	assert.Error(t, err)
	_, err = database.LoadMigrations(fstest.MapFS{
		"0001_a.sql": {Data: []byte("SELECT 1")}, "0001_b.sql": {Data: []byte("SELECT 1")},
	})
	assert.Error(t, err)
}

func TestInTxRollsBackOnError(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, "CREATE TABLE IF NOT EXISTS ledger (id int PRIMARY KEY)")
	require.NoError(t, err)

	boom := errors.New("boom")
	err = database.InTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO ledger VALUES (1)"); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)

	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM ledger").Scan(&n))
	assert.Zero(t, n)

	require.NoError(t, database.InTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO ledger VALUES (1)")
		return err
	}))
	_, err = pool.Exec(ctx, "INSERT INTO ledger VALUES (1)")
	assert.True(t, database.IsUniqueViolation(err, "ledger_pkey"))
	assert.False(t, database.IsUniqueViolation(err, "other_constraint"))
}

func TestOpenReportsAnUnreachableDatabaseWithoutItsPassword(t *testing.T) {
	_, err := database.Open(context.Background(), "postgres://u:s3cret-pw@127.0.0.1:1/db?connect_timeout=1", 0)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-pw")
	_, err = database.Open(context.Background(), "postgres://u:s3cret-pw@%zz", 0)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret-pw")
}
