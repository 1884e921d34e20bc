package orchestration

import (
	"strconv"
	"strings"

	"github.com/duroxide-go/duroxide"
)

// Nondeterminism messages quote the mismatched decision and event the way
// duroxide prints them (Rust's Debug formatting), so a failed instance's
// output reads the same whichever runtime failed it.

func rustStr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			if r < 0x20 || r == 0x7f {
				b.WriteString(`\u{` + strconv.FormatInt(int64(r), 16) + `}`)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func rustOpt(p *string) string {
	if p == nil {
		return "None"
	}
	return "Some(" + rustStr(*p) + ")"
}

func rustU(v uint64) string { return strconv.FormatUint(v, 10) }

// describeAction renders an action as duroxide's Debug output at matching
// time (scheduling event id still 0).
func describeAction(a Action) string {
	switch a := a.(type) {
	case CallActivityAction:
		return "CallActivity { scheduling_event_id: 0, name: " + rustStr(a.Name) + ", input: " + rustStr(a.Input) +
			", session_id: " + rustOpt(a.SessionID) + ", tag: " + rustOpt(a.Tag) + " }"
	case CreateTimerAction:
		return "CreateTimer { scheduling_event_id: 0, fire_at_ms: " + rustU(a.FireAtMs) + " }"
	case WaitExternalAction:
		return "WaitExternal { scheduling_event_id: 0, name: " + rustStr(a.Name) + " }"
	case StartDetachedAction:
		return "StartOrchestrationDetached { scheduling_event_id: 0, name: " + rustStr(a.Name) + ", version: " + rustOpt(a.Version) +
			", instance: " + rustStr(a.Instance) + ", input: " + rustStr(a.Input) + " }"
	case StartSubOrchestrationAction:
		return "StartSubOrchestration { scheduling_event_id: 0, name: " + rustStr(a.Name) + ", version: " + rustOpt(a.Version) +
			", instance: " + rustStr(a.Instance) + ", input: " + rustStr(a.Input) + " }"
	case ContinueAsNewAction:
		return "ContinueAsNew { input: " + rustStr(a.Input) + ", version: " + rustOpt(a.Version) + " }"
	case UpdateCustomStatusAction:
		return "UpdateCustomStatus { status: " + rustOpt(a.Status) + " }"
	case DequeueEventAction:
		return "DequeueEvent { scheduling_event_id: 0, name: " + rustStr(a.Name) + " }"
	case SetKeyValueAction:
		return "SetKeyValue { key: " + rustStr(a.Key) + ", value: " + rustStr(a.Value) + ", last_updated_at_ms: " + rustU(a.LastUpdatedAtMs) + " }"
	case ClearKeyValueAction:
		return "ClearKeyValue { key: " + rustStr(a.Key) + " }"
	case ClearKeyValuesAction:
		return "ClearKeyValues"
	}
	return "Unknown"
}

// describeEvent renders the schedule-like event kinds as duroxide's Debug
// output (the only kinds a mismatch message quotes).
func describeEvent(k duroxide.EventKind) string {
	switch k := k.(type) {
	case duroxide.ActivityScheduled:
		return "ActivityScheduled { name: " + rustStr(k.Name) + ", input: " + rustStr(k.Input) +
			", session_id: " + rustOpt(k.SessionID) + ", tag: " + rustOpt(k.Tag) + " }"
	case duroxide.TimerCreated:
		return "TimerCreated { fire_at_ms: " + rustU(k.FireAtMs) + " }"
	case duroxide.ExternalSubscribed:
		return "ExternalSubscribed { name: " + rustStr(k.Name) + " }"
	case duroxide.QueueSubscribed:
		return "QueueSubscribed { name: " + rustStr(k.Name) + " }"
	case duroxide.SubOrchestrationScheduled:
		return "SubOrchestrationScheduled { name: " + rustStr(k.Name) + ", instance: " + rustStr(k.Instance) + ", input: " + rustStr(k.Input) + " }"
	case duroxide.OrchestrationChained:
		return "OrchestrationChained { name: " + rustStr(k.Name) + ", instance: " + rustStr(k.Instance) + ", input: " + rustStr(k.Input) + " }"
	case duroxide.CustomStatusUpdated:
		return "CustomStatusUpdated { status: " + rustOpt(k.Status) + " }"
	case duroxide.KeyValueSet:
		return "KeyValueSet { key: " + rustStr(k.Key) + ", value: " + rustStr(k.Value) + ", last_updated_at_ms: " + rustU(k.LastUpdatedAtMs) + " }"
	case duroxide.KeyValueCleared:
		return "KeyValueCleared { key: " + rustStr(k.Key) + " }"
	case duroxide.KeyValuesCleared:
		return "KeyValuesCleared"
	}
	return k.EventType()
}
