package host

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/duroxide-go/duroxide/orchestration"
)

// builtin returns the system activity name, or nil: the activities behind
// the orchestration context's deterministic helpers, as duroxide's runtime
// registers them. Their results are recorded in history like any
// activity's, so replay returns the value read the first time.
func (r *Runtime) builtin(name string) ActivityHandler {
	switch name {
	case orchestration.SyscallNewGUID:
		// A random (version 4) UUID, lowercase and hyphenated.
		return func(*ActivityContext, string) (string, error) {
			var b [16]byte
			_, _ = rand.Read(b[:]) // never fails (crypto/rand panics on a broken source)
			b[6] = b[6]&0x0f | 0x40
			b[8] = b[8]&0x3f | 0x80
			return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
		}
	case orchestration.SyscallUtcNowMs:
		// The runtime clock's time in Unix milliseconds (a fake clock's in
		// tests), as a decimal number.
		return func(*ActivityContext, string) (string, error) {
			return strconv.FormatInt(max(r.clock.Now().UnixMilli(), 0), 10), nil
		}
	case orchestration.SyscallGetKVValue:
		// Another instance's key/value: input {"instance_id":..., "key":...},
		// output the value as a JSON string, or null when absent.
		return func(ctx *ActivityContext, input string) (string, error) {
			var in struct {
				InstanceID *string `json:"instance_id"`
				Key        *string `json:"key"`
			}
			if err := json.Unmarshal([]byte(input), &in); err != nil {
				return "", fmt.Errorf("get_kv_value: invalid input: %w", err)
			}
			if in.InstanceID == nil || in.Key == nil {
				return "", fmt.Errorf("get_kv_value: input needs instance_id and key: %s", input)
			}
			v, ok, err := r.p.GetKVValue(ctx, *in.InstanceID, *in.Key)
			if err != nil {
				return "", fmt.Errorf("get_kv_value: %w", err)
			}
			if !ok {
				return "null", nil
			}
			out, err := json.Marshal(v)
			return string(out), err
		}
	}
	return nil
}
