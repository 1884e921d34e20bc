package memprovider

import (
	"context"
	"maps"

	"github.com/duroxide-go/duroxide"
)

// Read implements [duroxide.Provider]: the history of the highest execution
// with a record (1 when none). O(e).
func (p *Provider) Read(ctx context.Context, instance string) ([]duroxide.Event, error) {
	const op = "read"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil {
		return []duroxide.Event{}, nil
	}
	return readExec(op, in, in.latestExecID())
}

// ReadWithExecution implements [duroxide.Provider]. O(e).
func (p *Provider) ReadWithExecution(ctx context.Context, instance string, executionID uint64) ([]duroxide.Event, error) {
	const op = "read_with_execution"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	if executionID == 0 {
		return nil, invalid(op, "execution_id must not be 0")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil {
		return []duroxide.Event{}, nil
	}
	return readExec(op, in, executionID)
}

func readExec(op string, in *instance, executionID uint64) ([]duroxide.Event, error) {
	events, herr := decodedHistory(in, in.execByID(executionID))
	if herr != "" {
		return nil, duroxide.Permanent(op, duroxide.ErrCorruptData, "%s", herr)
	}
	return events, nil
}

// checkInstance validates the context and an instance id.
func checkInstance(ctx context.Context, op, instance string) error {
	if err := checkCtx(ctx, op); err != nil {
		return err
	}
	if instance == "" {
		return invalid(op, "empty instance id")
	}
	return nil
}

// AppendWithExecution implements [duroxide.Provider]. It creates no instance
// or execution record. O(d log e).
func (p *Provider) AppendWithExecution(ctx context.Context, instance string, executionID uint64, events []duroxide.Event) error {
	const op = "append_with_execution"
	if err := checkInstance(ctx, op, instance); err != nil {
		return err
	}
	if executionID == 0 {
		return invalid(op, "execution_id must not be 0")
	}
	if err := checkKinds(op, "events", events); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	var e *execution
	if in != nil {
		e = in.execByID(executionID)
	}
	if err := checkEvents(op, e, events); err != nil {
		return err
	}
	if len(events) == 0 {
		return nil
	}
	in = p.inst(instance)
	in.exec(executionID).appendEvents(events)
	if in.parked {
		in.parked = false
		p.refreshReady(in)
		p.signal()
	}
	return nil
}

// GetCustomStatus implements [duroxide.Provider]. O(1).
func (p *Provider) GetCustomStatus(ctx context.Context, instance string, lastSeenVersion uint64) (duroxide.CustomStatus, bool, error) {
	const op = "get_custom_status"
	if err := checkInstance(ctx, op, instance); err != nil {
		return duroxide.CustomStatus{}, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil || in.meta == nil || in.meta.statusVersion <= lastSeenVersion {
		return duroxide.CustomStatus{}, false, nil
	}
	return duroxide.CustomStatus{Status: cloneStr(in.meta.customStatus), Version: in.meta.statusVersion}, true, nil
}

// GetKVValue implements [duroxide.Provider]: the current execution's writes
// over the merged store. O(1).
func (p *Provider) GetKVValue(ctx context.Context, instance, key string) (string, bool, error) {
	const op = "get_kv_value"
	if err := checkInstance(ctx, op, instance); err != nil {
		return "", false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	in := p.instances[instance]
	if in == nil {
		return "", false, nil
	}
	if d, ok := in.kvDelta[key]; ok {
		if d.value == nil {
			return "", false, nil
		}
		return *d.value, true, nil
	}
	v, ok := in.kv[key]
	return v.Value, ok, nil
}

// GetKVAllValues implements [duroxide.Provider]. O(keys).
func (p *Provider) GetKVAllValues(ctx context.Context, instance string) (map[string]string, error) {
	const op = "get_kv_all_values"
	if err := checkInstance(ctx, op, instance); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]string)
	in := p.instances[instance]
	if in == nil {
		return out, nil
	}
	for k, v := range in.kv {
		out[k] = v.Value
	}
	for k, d := range in.kvDelta {
		if d.value == nil {
			delete(out, k)
		} else {
			out[k] = *d.value
		}
	}
	return out, nil
}

// kvSnapshot copies the merged store; nil when it is empty.
func kvSnapshot(in *instance) map[string]duroxide.KvEntry {
	if len(in.kv) == 0 {
		return nil
	}
	return maps.Clone(in.kv)
}
