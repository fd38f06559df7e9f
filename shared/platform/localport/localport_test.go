package localport_test

import (
	"net"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/faas-shop/faas-shop/shared/platform/localport"
)

func TestStickyReusesTheLastPortWhileItIsFree(t *testing.T) {
	file := filepath.Join(t.TempDir(), "port")
	first, err := localport.Sticky(file)
	require.NoError(t, err)
	again, err := localport.Sticky(file)
	require.NoError(t, err)
	assert.Equal(t, first, again)

	busy, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(first)))
	require.NoError(t, err)
	defer busy.Close()
	assert.False(t, localport.Free(first))
	moved, err := localport.Sticky(file)
	require.NoError(t, err)
	assert.NotEqual(t, first, moved, "a taken port is replaced, not fought over")
}

func itoa(p int) string { return (&net.TCPAddr{Port: p}).String()[1:] }
