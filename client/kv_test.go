package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duroxide-go/duroxide"
	"github.com/duroxide-go/duroxide/client"
	"github.com/duroxide-go/duroxide/memprovider"
)

func TestKVReads(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.c.Start(h.ctx, "i1", "Counter", ""))
	h.start("i1")
	h.setKV("i1", "count", "3")
	h.setKV("i1", "empty", "")
	h.setKV("i1", "cart", `{"items":["a","b"]}`)

	tests := []struct {
		instance, key string
		value         string
		ok            bool
	}{
		{"i1", "count", "3", true},
		{"i1", "empty", "", true},
		{"i1", "missing", "", false},
		{"unknown", "count", "", false},
	}
	for _, tt := range tests {
		v, ok, err := h.c.GetKVValue(h.ctx, tt.instance, tt.key)
		require.NoError(t, err)
		require.Equal(t, tt.ok, ok, tt.key)
		require.Equal(t, tt.value, v, tt.key)
	}

	all, err := h.c.GetKVAllValues(h.ctx, "i1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"count": "3", "empty": "", "cart": `{"items":["a","b"]}`}, all)
	all["count"] = "mutated"
	v, _, err := h.c.GetKVValue(h.ctx, "i1", "count")
	require.NoError(t, err)
	require.Equal(t, "3", v, "the returned map is the caller's")

	all, err = h.c.GetKVAllValues(h.ctx, "unknown")
	require.NoError(t, err)
	require.Empty(t, all)
}

func TestKVValueDecodes(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.c.Start(h.ctx, "i1", "Counter", ""))
	h.start("i1")
	h.setKV("i1", "count", "3")
	h.setKV("i1", "cart", `{"items":["a","b"]}`)
	h.setKV("i1", "garbage", `{`)

	n, ok, err := client.KVValue[int](h.ctx, h.c, "i1", "count")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 3, n)

	type cart struct{ Items []string }
	c, ok, err := client.KVValue[cart](h.ctx, h.c, "i1", "cart")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, cart{Items: []string{"a", "b"}}, c)

	n, ok, err = client.KVValue[int](h.ctx, h.c, "i1", "missing")
	require.NoError(t, err)
	require.False(t, ok)
	require.Zero(t, n)

	for _, key := range []string{"garbage", "cart"} {
		n, ok, err = client.KVValue[int](h.ctx, h.c, "i1", key)
		require.ErrorIs(t, err, client.ErrDecode, key)
		require.False(t, ok)
		require.Zero(t, n)
	}

	_, _, err = client.KVValue[int](h.ctx, h.c, "", "count")
	require.ErrorIs(t, err, client.ErrInvalidInput)
}

func TestKVReadErrors(t *testing.T) {
	h := newHarness(t)
	_, _, err := h.c.GetKVValue(h.ctx, "", "k")
	require.ErrorIs(t, err, client.ErrInvalidInput)
	_, err = h.c.GetKVAllValues(h.ctx, "")
	require.ErrorIs(t, err, client.ErrInvalidInput)

	cause := duroxide.Retryable("get_kv", duroxide.ErrUnavailable, "busy")
	p := &faultyProvider{Provider: memprovider.New(), errs: map[string]error{"GetKVValue": cause, "GetKVAllValues": cause}}
	c, err := client.New(p)
	require.NoError(t, err)
	_, _, err = c.GetKVValue(context.Background(), "i1", "k")
	require.ErrorIs(t, err, duroxide.ErrUnavailable)
	require.True(t, client.IsRetryable(err))
	_, err = c.GetKVAllValues(context.Background(), "i1")
	require.ErrorIs(t, err, duroxide.ErrUnavailable)
	_, err = c.WaitForKVValue(context.Background(), "i1", "k", time.Hour)
	require.ErrorIs(t, err, duroxide.ErrUnavailable)
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	require.Equal(t, "wait_for_kv_value", ce.Op)
}

func TestWaitForKVValue(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, h.c.Start(h.ctx, "i1", "Counter", ""))
	h.start("i1")
	h.setKV("i1", "ready", "yes")

	v, err := h.c.WaitForKVValue(h.ctx, "i1", "ready", 0)
	require.NoError(t, err, "present: a zero timeout is enough")
	require.Equal(t, "yes", v)

	wait := async(t, func() (string, error) { return h.c.WaitForKVValue(h.ctx, "i1", "result", time.Minute) })
	h.waitForPoller()
	h.setKV("i1", "result", "42")
	require.NoError(t, h.clock.Advance(client.DefaultPollInitial))
	v, err = wait()
	require.NoError(t, err)
	require.Equal(t, "42", v)

	// The instance finishing does not end the wait: only the key does.
	h.complete("i1", "")
	wait = async(t, func() (string, error) { return h.c.WaitForKVValue(h.ctx, "i1", "never", 20*time.Millisecond) })
	for range 3 {
		h.waitForPoller()
		h.clock.AdvanceToNextTimer()
	}
	_, err = wait()
	require.ErrorIs(t, err, client.ErrTimeout)
}
