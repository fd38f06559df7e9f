package postgres

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/faas-shop/faas-shop/cmd/faas-local/internal/secrets"
)

func TestServicesFromSecrets(t *testing.T) {
	got := Services([]string{"users-database-url", "jwt-signing-key", "orders-database-url", "users-database-url"}, secrets.DatabaseService)
	assert.Equal(t, []string{"orders", "users"}, got)
}
