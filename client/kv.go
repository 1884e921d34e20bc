package client

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// GetKVValue returns the live value of key in the key/value store of
// instance (the values its orchestration set, the latest execution's writes
// included); ok is false when the key is absent or the instance unknown. The
// empty string is a value, distinct from absent.
func (c *Client) GetKVValue(ctx context.Context, instance, key string) (value string, ok bool, err error) {
	const op = "get_kv_value"
	if err := checkInstance(op, instance); err != nil {
		return "", false, err
	}
	v, ok, err := c.p.GetKVValue(ctx, instance, key)
	if err != nil {
		return "", false, newErr(op, instance, err)
	}
	return v, ok, nil
}

// GetKVAllValues returns every live key/value entry of instance (empty for
// an unknown instance). The map is the caller's.
func (c *Client) GetKVAllValues(ctx context.Context, instance string) (map[string]string, error) {
	const op = "get_kv_all_values"
	if err := checkInstance(op, instance); err != nil {
		return nil, err
	}
	m, err := c.p.GetKVAllValues(ctx, instance)
	if err != nil {
		return nil, newErr(op, instance, err)
	}
	return m, nil
}

// WaitForKVValue waits until key is present in the key/value store of
// instance and returns its value. Polling, timeout and errors are as for
// [Client.WaitForOrchestration]; the wait does not end when the instance
// finishes without setting the key (it times out).
func (c *Client) WaitForKVValue(ctx context.Context, instance, key string, timeout time.Duration) (string, error) {
	const op = "wait_for_kv_value"
	if err := checkInstance(op, instance); err != nil {
		return "", err
	}
	var v string
	err := c.poll(ctx, op, instance, timeout, func() (bool, error) {
		val, ok, err := c.p.GetKVValue(ctx, instance, key)
		if err != nil {
			return false, newErr(op, instance, err)
		}
		v = val
		return ok, nil
	})
	if err != nil {
		return "", err
	}
	return v, nil
}

// KVValue returns the live value of key in the key/value store of instance
// decoded from JSON into a T; ok is false (and the value T's zero value) when
// the key is absent. A value that does not decode into T is an error
// matching [ErrDecode]. Other errors are as for [Client.GetKVValue].
func KVValue[T any](ctx context.Context, c *Client, instance, key string) (value T, ok bool, err error) {
	s, ok, err := c.GetKVValue(ctx, instance, key)
	if err != nil || !ok {
		return value, false, err
	}
	if err := json.Unmarshal([]byte(s), &value); err != nil {
		var zero T
		return zero, false, newErr("get_kv_value", instance, fmt.Errorf("%w: key %q as %T: %v", ErrDecode, key, zero, err))
	}
	return value, true, nil
}
