package pgcluster_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/pgcluster"
)

func TestRoleURLKeepsServerAndParameters(t *testing.T) {
	u, err := pgcluster.RoleURL("postgres://postgres:pw@db.example:6543/postgres?sslmode=require&connect_timeout=5", "users", "s3cr/t")
	require.NoError(t, err)
	assert.Equal(t, "postgres://users:s3cr%2Ft@db.example:6543/users?sslmode=require&connect_timeout=5", u)
}
