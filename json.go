package duroxide

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// This file holds the JSON wire format: exactly the shapes serde_json gives
// duroxide's Rust types, so that Go and Rust runtimes can share stored
// histories and queues.
//
//   - An [Event] is one flat object: the envelope fields, then "type" (the
//     [EventKind.EventType] tag), then the kind's fields.
//   - [WorkItem], [ErrorDetails], [AppErrorKind] and [PoisonMessageType] are
//     externally tagged: {"Variant":{...fields...}}. The unit variants of
//     AppErrorKind and ConfigErrorKind are bare strings.
//   - Members are written in the Rust declaration order, with serde_json's
//     compact formatting and string escaping, so the output is byte-for-byte
//     what Rust writes for the same value.
//
// Decoding follows serde's rules: unknown members are ignored, a missing or
// null Option field is absent, a missing required field, a duplicate member,
// a wrong JSON type, an unknown variant tag and trailing data are errors.
//
// The bytes are byte-exact when returned by the functions and methods here. A
// json.Marshal of a value holding them re-escapes <, >, & and U+2028/U+2029
// unless the encoder has SetEscapeHTML(false); the JSON is equivalent.

// ErrUnknownVariant is returned, wrapped with the offending tag, when decoding
// meets a variant tag this package does not know (for example an event type
// written by a newer duroxide), and when marshalling or validation
// ([ValidateEvent], [ValidateWorkItem], [ValidateErrorDetails]) meets a value
// that is not one of the variants: a nil [EventKind], [WorkItem],
// [ErrorDetails], [AppErrorKind] or [PoisonMessageType], a pointer to a
// variant (&KeyValueSet{} satisfies EventKind, but only the value is a
// variant), a foreign type embedding a variant, or a [ConfigErrorKind] other
// than [Nondeterminism]. Match it with errors.Is.
var ErrUnknownVariant = errors.New("unknown variant")

// MarshalJSON encodes e as duroxide's flat event object. It fails, with an
// error wrapping [ErrUnknownVariant], exactly when [ValidateEvent] does: when
// e.Kind (or an ErrorDetails inside it) is nil, a pointer or not a variant.
func (e Event) MarshalJSON() ([]byte, error) {
	var w encoder
	w.beginObject()
	w.uintField("event_id", e.EventID)
	w.optUintField("source_event_id", e.SourceEventID)
	w.strField("instance_id", e.InstanceID)
	w.uintField("execution_id", e.ExecutionID)
	w.uintField("timestamp_ms", e.TimestampMs)
	w.strField("duroxide_version", e.DuroxideVersion)
	w.eventKindFields(e.Kind)
	w.endObject()
	return w.result("Event")
}

// UnmarshalJSON decodes duroxide's flat event object into e. On error e is
// left unchanged; an unknown "type" tag yields an error wrapping
// [ErrUnknownVariant].
func (e *Event) UnmarshalJSON(data []byte) error {
	ev, err := decodeEvent(data)
	if err != nil {
		return fmt.Errorf("duroxide: decode Event: %w", err)
	}
	*e = ev
	return nil
}

// MarshalWorkItem encodes w in duroxide's externally tagged form, for example
// {"CancelInstance":{"instance":"i","reason":"r"}}. It fails exactly when
// [ValidateWorkItem] does: for a nil w, a pointer to a variant, a type that is
// not a variant, or an invalid ErrorDetails inside w.
func MarshalWorkItem(w WorkItem) ([]byte, error) {
	var enc encoder
	enc.workItem(w)
	return enc.result("WorkItem")
}

// UnmarshalWorkItem decodes a work item written by [MarshalWorkItem] or by
// duroxide. The result is one of the value-typed variants listed by
// [WorkItemVariants]. An unknown variant yields an error wrapping
// [ErrUnknownVariant].
func UnmarshalWorkItem(data []byte) (WorkItem, error) {
	w, err := decodeWorkItem(data)
	if err != nil {
		return nil, fmt.Errorf("duroxide: decode WorkItem: %w", err)
	}
	return w, nil
}

// MarshalErrorDetails encodes d in duroxide's externally tagged form, for
// example {"Infrastructure":{"operation":"o","message":"m","retryable":true}}.
// It fails exactly when [ValidateErrorDetails] does: for a nil or pointer d, a
// nil or pointer AppErrorKind or PoisonMessageType inside it, and a
// ConfigErrorKind other than [Nondeterminism].
func MarshalErrorDetails(d ErrorDetails) ([]byte, error) {
	var enc encoder
	enc.errorDetails(d)
	return enc.result("ErrorDetails")
}

// UnmarshalErrorDetails decodes error details written by
// [MarshalErrorDetails] or by duroxide. An unknown variant (of ErrorDetails,
// AppErrorKind, ConfigErrorKind or PoisonMessageType) yields an error wrapping
// [ErrUnknownVariant].
func UnmarshalErrorDetails(data []byte) (ErrorDetails, error) {
	d, err := decodeErrorDetails(data)
	if err != nil {
		return nil, fmt.Errorf("duroxide: decode ErrorDetails: %w", err)
	}
	return d, nil
}

// MarshalJSON encodes w as {"StartOrchestration":{...}}; see [MarshalWorkItem].
func (w StartOrchestrationItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"ActivityExecute":{...}}; see [MarshalWorkItem].
func (w ActivityExecuteItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"ActivityCompleted":{...}}; see [MarshalWorkItem].
func (w ActivityCompletedItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"ActivityFailed":{...}}; see [MarshalWorkItem].
func (w ActivityFailedItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"TimerFired":{...}}; see [MarshalWorkItem].
func (w TimerFiredItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"ExternalRaised":{...}}; see [MarshalWorkItem].
func (w ExternalRaisedItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"SubOrchCompleted":{...}}; see [MarshalWorkItem].
func (w SubOrchCompletedItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"SubOrchFailed":{...}}; see [MarshalWorkItem].
func (w SubOrchFailedItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"CancelInstance":{...}}; see [MarshalWorkItem].
func (w CancelInstanceItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"ContinueAsNew":{...}}; see [MarshalWorkItem].
func (w ContinueAsNewItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes w as {"QueueMessage":{...}}; see [MarshalWorkItem].
func (w QueueMessageItem) MarshalJSON() ([]byte, error) { return MarshalWorkItem(w) }

// MarshalJSON encodes d as {"Infrastructure":{...}}; see [MarshalErrorDetails].
func (d Infrastructure) MarshalJSON() ([]byte, error) { return MarshalErrorDetails(d) }

// MarshalJSON encodes d as {"Configuration":{...}}; see [MarshalErrorDetails].
func (d Configuration) MarshalJSON() ([]byte, error) { return MarshalErrorDetails(d) }

// MarshalJSON encodes d as {"Application":{...}}; see [MarshalErrorDetails].
func (d Application) MarshalJSON() ([]byte, error) { return MarshalErrorDetails(d) }

// MarshalJSON encodes d as {"Poison":{...}}; see [MarshalErrorDetails].
func (d Poison) MarshalJSON() ([]byte, error) { return MarshalErrorDetails(d) }

// ---------------------------------------------------------------------------
// Encoding

// encoder appends compact JSON to buf. It tracks, per open object, whether a
// member was already written (for the separating comma), and keeps the first
// error.
type encoder struct {
	buf   []byte
	comma []bool
	err   error
}

func (w *encoder) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *encoder) result(what string) ([]byte, error) {
	if w.err != nil {
		return nil, fmt.Errorf("duroxide: marshal %s: %w", what, w.err)
	}
	return w.buf, nil
}

func (w *encoder) beginObject() {
	w.buf = append(w.buf, '{')
	w.comma = append(w.comma, false)
}

func (w *encoder) endObject() {
	w.buf = append(w.buf, '}')
	w.comma = w.comma[:len(w.comma)-1]
}

// key writes the separator (if needed), the quoted key and the colon.
func (w *encoder) key(k string) {
	top := len(w.comma) - 1
	if w.comma[top] {
		w.buf = append(w.buf, ',')
	}
	w.comma[top] = true
	w.buf = appendString(w.buf, k)
	w.buf = append(w.buf, ':')
}

// beginVariant opens {"tag":{ for an externally tagged struct variant.
func (w *encoder) beginVariant(tag string) {
	w.beginObject()
	w.key(tag)
	w.beginObject()
}

func (w *encoder) endVariant() {
	w.endObject()
	w.endObject()
}

func (w *encoder) strField(k, v string) {
	w.key(k)
	w.buf = appendString(w.buf, v)
}

// optStrField writes v, or null when v is nil.
func (w *encoder) optStrField(k string, v *string) {
	if v == nil {
		w.key(k)
		w.buf = append(w.buf, "null"...)
		return
	}
	w.strField(k, *v)
}

// omitStrField writes v, or nothing when v is nil.
func (w *encoder) omitStrField(k string, v *string) {
	if v != nil {
		w.strField(k, *v)
	}
}

func (w *encoder) uintField(k string, v uint64) {
	w.key(k)
	w.buf = strconv.AppendUint(w.buf, v, 10)
}

// optUintField writes v, or null when v is nil.
func (w *encoder) optUintField(k string, v *uint64) {
	if v == nil {
		w.key(k)
		w.buf = append(w.buf, "null"...)
		return
	}
	w.uintField(k, *v)
}

func (w *encoder) boolField(k string, v bool) {
	w.key(k)
	w.buf = strconv.AppendBool(w.buf, v)
}

// carriedField writes events as an array of ["name","data"] pairs ([] for
// nil).
func (w *encoder) carriedField(k string, events []CarriedEvent) {
	w.key(k)
	w.buf = append(w.buf, '[')
	for i, ev := range events {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, '[')
		w.buf = appendString(w.buf, ev.Name)
		w.buf = append(w.buf, ',')
		w.buf = appendString(w.buf, ev.Data)
		w.buf = append(w.buf, ']')
	}
	w.buf = append(w.buf, ']')
}

func (w *encoder) detailsField(k string, d ErrorDetails) {
	w.key(k)
	w.errorDetails(d)
}

// eventKindFields writes "type" and the kind's fields into the open event
// object.
func (w *encoder) eventKindFields(kind EventKind) {
	if err := validateEventKind(kind); err != nil {
		w.fail(err)
		return
	}
	w.strField("type", kind.EventType())
	switch k := kind.(type) {
	case OrchestrationStarted:
		w.strField("name", k.Name)
		w.strField("version", k.Version)
		w.strField("input", k.Input)
		w.optStrField("parent_instance", k.ParentInstance)
		w.optUintField("parent_id", k.ParentID)
		if k.CarryForwardEvents != nil {
			w.carriedField("carry_forward_events", k.CarryForwardEvents)
		}
		w.omitStrField("initial_custom_status", k.InitialCustomStatus)
	case OrchestrationCompleted:
		w.strField("output", k.Output)
	case OrchestrationFailed:
		w.detailsField("details", k.Details)
	case ActivityScheduled:
		w.strField("name", k.Name)
		w.strField("input", k.Input)
		w.omitStrField("session_id", k.SessionID)
		w.omitStrField("tag", k.Tag)
	case ActivityCompleted:
		w.strField("result", k.Result)
	case ActivityFailed:
		w.detailsField("details", k.Details)
	case ActivityCancelRequested:
		w.strField("reason", k.Reason)
	case TimerCreated:
		w.uintField("fire_at_ms", k.FireAtMs)
	case TimerFired:
		w.uintField("fire_at_ms", k.FireAtMs)
	case ExternalSubscribed:
		w.strField("name", k.Name)
	case ExternalEvent:
		w.strField("name", k.Name)
		w.strField("data", k.Data)
	case OrchestrationChained:
		w.strField("name", k.Name)
		w.strField("instance", k.Instance)
		w.strField("input", k.Input)
	case SubOrchestrationScheduled:
		w.strField("name", k.Name)
		w.strField("instance", k.Instance)
		w.strField("input", k.Input)
	case SubOrchestrationCompleted:
		w.strField("result", k.Result)
	case SubOrchestrationFailed:
		w.detailsField("details", k.Details)
	case SubOrchestrationCancelRequested:
		w.strField("reason", k.Reason)
	case OrchestrationContinuedAsNew:
		w.strField("input", k.Input)
	case OrchestrationCancelRequested:
		w.strField("reason", k.Reason)
	case ExternalSubscribedCancelled:
		w.strField("reason", k.Reason)
	case QueueSubscribed:
		w.strField("name", k.Name)
	case QueueEventDelivered:
		w.strField("name", k.Name)
		w.strField("data", k.Data)
	case QueueSubscriptionCancelled:
		w.strField("reason", k.Reason)
	case CustomStatusUpdated:
		w.optStrField("status", k.Status)
	case KeyValueSet:
		w.strField("key", k.Key)
		w.strField("value", k.Value)
		w.uintField("last_updated_at_ms", k.LastUpdatedAtMs)
	case KeyValueCleared:
		w.strField("key", k.Key)
	case KeyValuesCleared:
		// No fields.
	}
}

func (w *encoder) workItem(item WorkItem) {
	if err := ValidateWorkItem(item); err != nil {
		w.fail(err)
		return
	}
	w.beginVariant(item.Variant())
	switch v := item.(type) {
	case StartOrchestrationItem:
		w.strField("instance", v.Instance)
		w.strField("orchestration", v.Orchestration)
		w.strField("input", v.Input)
		w.optStrField("version", v.Version)
		w.optStrField("parent_instance", v.ParentInstance)
		w.optUintField("parent_id", v.ParentID)
		w.uintField("execution_id", v.ExecutionID)
	case ActivityExecuteItem:
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.uintField("id", v.ID)
		w.strField("name", v.Name)
		w.strField("input", v.Input)
		w.omitStrField("session_id", v.SessionID)
		w.omitStrField("tag", v.Tag)
	case ActivityCompletedItem:
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.uintField("id", v.ID)
		w.strField("result", v.Result)
	case ActivityFailedItem:
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.uintField("id", v.ID)
		w.detailsField("details", v.Details)
	case TimerFiredItem:
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.uintField("id", v.ID)
		w.uintField("fire_at_ms", v.FireAtMs)
	case ExternalRaisedItem:
		w.strField("instance", v.Instance)
		w.strField("name", v.Name)
		w.strField("data", v.Data)
	case SubOrchCompletedItem:
		w.strField("parent_instance", v.ParentInstance)
		w.uintField("parent_execution_id", v.ParentExecutionID)
		w.uintField("parent_id", v.ParentID)
		w.strField("result", v.Result)
	case SubOrchFailedItem:
		w.strField("parent_instance", v.ParentInstance)
		w.uintField("parent_execution_id", v.ParentExecutionID)
		w.uintField("parent_id", v.ParentID)
		w.detailsField("details", v.Details)
	case CancelInstanceItem:
		w.strField("instance", v.Instance)
		w.strField("reason", v.Reason)
	case ContinueAsNewItem:
		w.strField("instance", v.Instance)
		w.strField("orchestration", v.Orchestration)
		w.strField("input", v.Input)
		w.optStrField("version", v.Version)
		w.carriedField("carry_forward_events", v.CarryForwardEvents)
		w.omitStrField("initial_custom_status", v.InitialCustomStatus)
	case QueueMessageItem:
		w.strField("instance", v.Instance)
		w.strField("name", v.Name)
		w.strField("data", v.Data)
	}
	w.endVariant()
}

// errorDetails writes d, or fails as ValidateErrorDetails does.
func (w *encoder) errorDetails(d ErrorDetails) {
	if err := ValidateErrorDetails(d); err != nil {
		w.fail(err)
		return
	}
	switch v := d.(type) {
	case Infrastructure:
		w.beginVariant("Infrastructure")
		w.strField("operation", v.Operation)
		w.strField("message", v.Message)
		w.boolField("retryable", v.Retryable)
		w.endVariant()
	case Configuration:
		w.beginVariant("Configuration")
		w.strField("kind", string(v.Kind))
		w.strField("resource", v.Resource)
		w.optStrField("message", v.Message)
		w.endVariant()
	case Application:
		w.beginVariant("Application")
		w.key("kind")
		w.appErrorKind(v.Kind)
		w.strField("message", v.Message)
		w.boolField("retryable", v.Retryable)
		w.endVariant()
	case Poison:
		w.beginVariant("Poison")
		w.uintField("attempt_count", uint64(v.AttemptCount))
		w.uintField("max_attempts", uint64(v.MaxAttempts))
		w.key("message_type")
		w.poisonMessageType(v.MessageType)
		w.strField("message", v.Message)
		w.endVariant()
	}
}

// appErrorKind writes k, which errorDetails validated.
func (w *encoder) appErrorKind(k AppErrorKind) {
	switch v := k.(type) {
	case AppActivityFailed:
		w.buf = appendString(w.buf, "ActivityFailed")
	case AppOrchestrationFailed:
		w.buf = appendString(w.buf, "OrchestrationFailed")
	case AppPanicked:
		w.buf = appendString(w.buf, "Panicked")
	case AppCancelled:
		w.beginVariant("Cancelled")
		w.strField("reason", v.Reason)
		w.endVariant()
	}
}

// poisonMessageType writes m, which errorDetails validated.
func (w *encoder) poisonMessageType(m PoisonMessageType) {
	switch v := m.(type) {
	case PoisonOrchestration:
		w.beginVariant("Orchestration")
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.endVariant()
	case PoisonActivity:
		w.beginVariant("Activity")
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.strField("activity_name", v.ActivityName)
		w.uintField("activity_id", v.ActivityID)
		w.endVariant()
	case PoisonFailedDeserialization:
		w.beginVariant("FailedDeserialization")
		w.strField("instance", v.Instance)
		w.uintField("execution_id", v.ExecutionID)
		w.strField("error", v.Error)
		w.endVariant()
	}
}

// appendString appends s as a JSON string escaped the way serde_json does:
// only '"', '\\' and control characters below U+0020 are escaped (\b, \t,
// \n, \f, \r short forms, \u00xx otherwise); everything else, including
// non-ASCII, '<', '>', '&', U+2028 and U+2029, is written as raw UTF-8.
// Invalid UTF-8 (which a Rust string cannot hold) becomes U+FFFD.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\f':
				buf = append(buf, '\\', 'f')
			case '\r':
				buf = append(buf, '\\', 'r')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// ---------------------------------------------------------------------------
// Decoding

// object is one decoded JSON object: its members, undecoded, by key.
type object map[string]json.RawMessage

// parseObject decodes data as a single JSON object. Duplicate keys, any other
// JSON type, invalid UTF-8 and trailing data are errors.
func parseObject(data []byte) (object, error) {
	obj, err := parseObjectTokens(data)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, errUnexpectedEnd
	}
	return obj, err
}

var errUnexpectedEnd = errors.New("unexpected end of JSON input")

// parseObjectTokens does the work of parseObject, reading data token by token
// to see duplicate keys.
func parseObjectTokens(data []byte) (object, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("expected a JSON object, found %s", describeToken(tok))
	}
	obj := object{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("expected an object key, found %s", describeToken(tok))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("duplicate field %q", key)
		}
		obj[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return obj, nil
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", t.String())
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%v", tok)
}

// parseEnum decodes an externally tagged enum value: either a bare string (a
// unit variant; body is nil) or an object with exactly one member.
func parseEnum(data []byte) (tag string, body json.RawMessage, err error) {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '"' {
		if !utf8.Valid(t) {
			return "", nil, errors.New("invalid UTF-8")
		}
		if err := json.Unmarshal(t, &tag); err != nil {
			return "", nil, err
		}
		return tag, nil, nil
	}
	obj, err := parseObject(data)
	if err != nil {
		return "", nil, err
	}
	if len(obj) != 1 {
		return "", nil, fmt.Errorf("expected an object with exactly one variant key, found %d keys", len(obj))
	}
	for k, v := range obj {
		tag, body = k, v
	}
	return tag, body, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// fields reads the members of one decoded object (an event, or the body of a
// struct variant), keeping the first error. Unknown members are ignored, as
// serde does.
type fields struct {
	obj object
	err error
}

// structFields parses body as the object of a struct variant. A body that is
// not an object becomes the fields' first error (reported by done), so the
// caller can first pick the variant, and report an unknown tag as such.
func structFields(body json.RawMessage) *fields {
	if body == nil {
		return &fields{err: errors.New("expected a struct variant object, found a bare string")}
	}
	obj, err := parseObject(body)
	return &fields{obj: obj, err: err}
}

func (f *fields) fail(key string, err error) {
	if f.err == nil {
		f.err = fmt.Errorf("field %q: %w", key, err)
	}
}

// done returns the first error, prefixed with what the fields belong to.
func (f *fields) done(what string) error {
	if f.err != nil {
		return fmt.Errorf("%s: %w", what, f.err)
	}
	return nil
}

var (
	errMissing = errors.New("missing")
	errNull    = errors.New("null is not a valid value")
)

// req decodes the required member key: missing and null are errors.
func req[T any](f *fields, key string) T {
	var v T
	raw, ok := f.obj[key]
	switch {
	case !ok:
		f.fail(key, errMissing)
	case isNull(raw):
		f.fail(key, errNull)
	default:
		if err := json.Unmarshal(raw, &v); err != nil {
			f.fail(key, err)
		}
	}
	return v
}

// def decodes the member key, which defaults to the zero value when missing
// (serde's #[serde(default)] on a non-Option field); null is an error.
func def[T any](f *fields, key string) T {
	if _, ok := f.obj[key]; !ok {
		var zero T
		return zero
	}
	return req[T](f, key)
}

// opt decodes the optional member key: missing and null give nil.
func opt[T any](f *fields, key string) *T {
	raw, ok := f.obj[key]
	if !ok || isNull(raw) {
		return nil
	}
	v := req[T](f, key)
	return &v
}

// details decodes the required ErrorDetails member key.
func (f *fields) details(key string) ErrorDetails {
	raw, ok := f.obj[key]
	if !ok {
		f.fail(key, errMissing)
		return nil
	}
	d, err := decodeErrorDetails(raw)
	if err != nil {
		f.fail(key, err)
	}
	return d
}

// carried decodes an array of ["name","data"] pairs. A JSON null is an error;
// an empty array gives nil.
func (f *fields) carried(key string) []CarriedEvent {
	raw := f.obj[key]
	if isNull(raw) {
		f.fail(key, errNull)
		return nil
	}
	var pairs [][]json.RawMessage
	if err := json.Unmarshal(raw, &pairs); err != nil {
		f.fail(key, err)
		return nil
	}
	var out []CarriedEvent
	for i, pair := range pairs {
		if len(pair) != 2 {
			f.fail(key, fmt.Errorf("element %d: expected a [name, data] pair, found %d elements", i, len(pair)))
			return nil
		}
		var ev CarriedEvent
		for j, dst := range []*string{&ev.Name, &ev.Data} {
			if isNull(pair[j]) {
				f.fail(key, fmt.Errorf("element %d: %w", i, errNull))
				return nil
			}
			if err := json.Unmarshal(pair[j], dst); err != nil {
				f.fail(key, fmt.Errorf("element %d: %w", i, err))
				return nil
			}
		}
		out = append(out, ev)
	}
	return out
}

func decodeEvent(data []byte) (Event, error) {
	obj, err := parseObject(data)
	if err != nil {
		return Event{}, err
	}
	f := &fields{obj: obj}
	e := Event{
		EventID:         req[uint64](f, "event_id"),
		SourceEventID:   opt[uint64](f, "source_event_id"),
		InstanceID:      req[string](f, "instance_id"),
		ExecutionID:     req[uint64](f, "execution_id"),
		TimestampMs:     req[uint64](f, "timestamp_ms"),
		DuroxideVersion: req[string](f, "duroxide_version"),
	}
	tag := req[string](f, "type")
	if f.err != nil {
		return Event{}, f.err
	}
	e.Kind = decodeEventKind(tag, f)
	if e.Kind == nil {
		return Event{}, fmt.Errorf("%w %q of EventKind", ErrUnknownVariant, tag)
	}
	if err := f.done(tag); err != nil {
		return Event{}, err
	}
	return e, nil
}

// decodeEventKind reads the fields of the kind tagged tag from f; it returns
// nil for an unknown tag.
func decodeEventKind(tag string, f *fields) EventKind {
	switch tag {
	case "OrchestrationStarted":
		k := OrchestrationStarted{
			Name:                req[string](f, "name"),
			Version:             req[string](f, "version"),
			Input:               req[string](f, "input"),
			ParentInstance:      opt[string](f, "parent_instance"),
			ParentID:            opt[uint64](f, "parent_id"),
			InitialCustomStatus: opt[string](f, "initial_custom_status"),
		}
		// Option<Vec<_>>: missing or null is absent (nil); present is non-nil.
		if raw, ok := f.obj["carry_forward_events"]; ok && !isNull(raw) {
			k.CarryForwardEvents = f.carried("carry_forward_events")
			if k.CarryForwardEvents == nil {
				k.CarryForwardEvents = []CarriedEvent{}
			}
		}
		return k
	case "OrchestrationCompleted":
		return OrchestrationCompleted{Output: req[string](f, "output")}
	case "OrchestrationFailed":
		return OrchestrationFailed{Details: f.details("details")}
	case "ActivityScheduled":
		return ActivityScheduled{
			Name:      req[string](f, "name"),
			Input:     req[string](f, "input"),
			SessionID: opt[string](f, "session_id"),
			Tag:       opt[string](f, "tag"),
		}
	case "ActivityCompleted":
		return ActivityCompleted{Result: req[string](f, "result")}
	case "ActivityFailed":
		return ActivityFailed{Details: f.details("details")}
	case "ActivityCancelRequested":
		return ActivityCancelRequested{Reason: req[string](f, "reason")}
	case "TimerCreated":
		return TimerCreated{FireAtMs: req[uint64](f, "fire_at_ms")}
	case "TimerFired":
		return TimerFired{FireAtMs: req[uint64](f, "fire_at_ms")}
	case "ExternalSubscribed":
		return ExternalSubscribed{Name: req[string](f, "name")}
	case "ExternalEvent":
		return ExternalEvent{Name: req[string](f, "name"), Data: req[string](f, "data")}
	case "OrchestrationChained":
		return OrchestrationChained{
			Name:     req[string](f, "name"),
			Instance: req[string](f, "instance"),
			Input:    req[string](f, "input"),
		}
	case "SubOrchestrationScheduled":
		return SubOrchestrationScheduled{
			Name:     req[string](f, "name"),
			Instance: req[string](f, "instance"),
			Input:    req[string](f, "input"),
		}
	case "SubOrchestrationCompleted":
		return SubOrchestrationCompleted{Result: req[string](f, "result")}
	case "SubOrchestrationFailed":
		return SubOrchestrationFailed{Details: f.details("details")}
	case "SubOrchestrationCancelRequested":
		return SubOrchestrationCancelRequested{Reason: req[string](f, "reason")}
	case "OrchestrationContinuedAsNew":
		return OrchestrationContinuedAsNew{Input: req[string](f, "input")}
	case "OrchestrationCancelRequested":
		return OrchestrationCancelRequested{Reason: req[string](f, "reason")}
	case "ExternalSubscribedCancelled":
		return ExternalSubscribedCancelled{Reason: req[string](f, "reason")}
	case "ExternalSubscribedPersistent":
		return QueueSubscribed{Name: req[string](f, "name")}
	case "ExternalEventPersistent":
		return QueueEventDelivered{Name: req[string](f, "name"), Data: req[string](f, "data")}
	case "ExternalSubscribedPersistentCancelled":
		return QueueSubscriptionCancelled{Reason: req[string](f, "reason")}
	case "CustomStatusUpdated":
		return CustomStatusUpdated{Status: opt[string](f, "status")}
	case "KeyValueSet":
		return KeyValueSet{
			Key:             req[string](f, "key"),
			Value:           req[string](f, "value"),
			LastUpdatedAtMs: def[uint64](f, "last_updated_at_ms"),
		}
	case "KeyValueCleared":
		return KeyValueCleared{Key: req[string](f, "key")}
	case "KeyValuesCleared":
		return KeyValuesCleared{}
	}
	return nil
}

func decodeWorkItem(data []byte) (WorkItem, error) {
	tag, body, err := parseEnum(data)
	if err != nil {
		return nil, err
	}
	f := structFields(body)
	var w WorkItem
	switch tag {
	case "StartOrchestration":
		w = StartOrchestrationItem{
			Instance:       req[string](f, "instance"),
			Orchestration:  req[string](f, "orchestration"),
			Input:          req[string](f, "input"),
			Version:        opt[string](f, "version"),
			ParentInstance: opt[string](f, "parent_instance"),
			ParentID:       opt[uint64](f, "parent_id"),
			ExecutionID:    req[uint64](f, "execution_id"),
		}
	case "ActivityExecute":
		w = ActivityExecuteItem{
			Instance:    req[string](f, "instance"),
			ExecutionID: req[uint64](f, "execution_id"),
			ID:          req[uint64](f, "id"),
			Name:        req[string](f, "name"),
			Input:       req[string](f, "input"),
			SessionID:   opt[string](f, "session_id"),
			Tag:         opt[string](f, "tag"),
		}
	case "ActivityCompleted":
		w = ActivityCompletedItem{
			Instance:    req[string](f, "instance"),
			ExecutionID: req[uint64](f, "execution_id"),
			ID:          req[uint64](f, "id"),
			Result:      req[string](f, "result"),
		}
	case "ActivityFailed":
		w = ActivityFailedItem{
			Instance:    req[string](f, "instance"),
			ExecutionID: req[uint64](f, "execution_id"),
			ID:          req[uint64](f, "id"),
			Details:     f.details("details"),
		}
	case "TimerFired":
		w = TimerFiredItem{
			Instance:    req[string](f, "instance"),
			ExecutionID: req[uint64](f, "execution_id"),
			ID:          req[uint64](f, "id"),
			FireAtMs:    req[uint64](f, "fire_at_ms"),
		}
	case "ExternalRaised":
		w = ExternalRaisedItem{
			Instance: req[string](f, "instance"),
			Name:     req[string](f, "name"),
			Data:     req[string](f, "data"),
		}
	case "SubOrchCompleted":
		w = SubOrchCompletedItem{
			ParentInstance:    req[string](f, "parent_instance"),
			ParentExecutionID: req[uint64](f, "parent_execution_id"),
			ParentID:          req[uint64](f, "parent_id"),
			Result:            req[string](f, "result"),
		}
	case "SubOrchFailed":
		w = SubOrchFailedItem{
			ParentInstance:    req[string](f, "parent_instance"),
			ParentExecutionID: req[uint64](f, "parent_execution_id"),
			ParentID:          req[uint64](f, "parent_id"),
			Details:           f.details("details"),
		}
	case "CancelInstance":
		w = CancelInstanceItem{
			Instance: req[string](f, "instance"),
			Reason:   req[string](f, "reason"),
		}
	case "ContinueAsNew":
		item := ContinueAsNewItem{
			Instance:            req[string](f, "instance"),
			Orchestration:       req[string](f, "orchestration"),
			Input:               req[string](f, "input"),
			Version:             opt[string](f, "version"),
			InitialCustomStatus: opt[string](f, "initial_custom_status"),
		}
		// Vec with #[serde(default)]: missing is empty; empty decodes as nil.
		if _, ok := f.obj["carry_forward_events"]; ok {
			item.CarryForwardEvents = f.carried("carry_forward_events")
		}
		w = item
	case "QueueMessage":
		w = QueueMessageItem{
			Instance: req[string](f, "instance"),
			Name:     req[string](f, "name"),
			Data:     req[string](f, "data"),
		}
	default:
		return nil, fmt.Errorf("%w %q of WorkItem", ErrUnknownVariant, tag)
	}
	if err := f.done(tag); err != nil {
		return nil, err
	}
	return w, nil
}

func decodeErrorDetails(data []byte) (ErrorDetails, error) {
	tag, body, err := parseEnum(data)
	if err != nil {
		return nil, err
	}
	f := structFields(body)
	var d ErrorDetails
	switch tag {
	case "Infrastructure":
		d = Infrastructure{
			Operation: req[string](f, "operation"),
			Message:   req[string](f, "message"),
			Retryable: req[bool](f, "retryable"),
		}
	case "Configuration":
		d = Configuration{
			Kind:     f.configErrorKind("kind"),
			Resource: req[string](f, "resource"),
			Message:  opt[string](f, "message"),
		}
	case "Application":
		d = Application{
			Kind:      f.appErrorKind("kind"),
			Message:   req[string](f, "message"),
			Retryable: req[bool](f, "retryable"),
		}
	case "Poison":
		d = Poison{
			AttemptCount: req[uint32](f, "attempt_count"),
			MaxAttempts:  req[uint32](f, "max_attempts"),
			MessageType:  f.poisonMessageType("message_type"),
			Message:      req[string](f, "message"),
		}
	default:
		return nil, fmt.Errorf("%w %q of ErrorDetails", ErrUnknownVariant, tag)
	}
	if err := f.done(tag); err != nil {
		return nil, err
	}
	return d, nil
}

// enumMember parses the required member key as an externally tagged enum
// value; see parseEnum.
func (f *fields) enumMember(key string) (tag string, body json.RawMessage, ok bool) {
	raw, present := f.obj[key]
	if !present {
		f.fail(key, errMissing)
		return "", nil, false
	}
	tag, body, err := parseEnum(raw)
	if err != nil {
		f.fail(key, err)
		return "", nil, false
	}
	return tag, body, true
}

// isUnitBody reports whether body is a valid unit variant payload: absent (a
// bare string) or null.
func isUnitBody(body json.RawMessage) bool { return body == nil || isNull(body) }

func (f *fields) configErrorKind(key string) ConfigErrorKind {
	tag, body, ok := f.enumMember(key)
	switch {
	case !ok:
		return ""
	case tag != string(Nondeterminism):
		f.fail(key, fmt.Errorf("%w %q of ConfigErrorKind", ErrUnknownVariant, tag))
		return ""
	case !isUnitBody(body):
		f.fail(key, fmt.Errorf("%s: expected a unit variant", tag))
		return ""
	}
	return Nondeterminism
}

func (f *fields) appErrorKind(key string) AppErrorKind {
	tag, body, ok := f.enumMember(key)
	if !ok {
		return nil
	}
	var unit AppErrorKind
	switch tag {
	case "ActivityFailed":
		unit = AppActivityFailed{}
	case "OrchestrationFailed":
		unit = AppOrchestrationFailed{}
	case "Panicked":
		unit = AppPanicked{}
	case "Cancelled":
		sf := structFields(body)
		k := AppCancelled{Reason: req[string](sf, "reason")}
		if err := sf.done(tag); err != nil {
			f.fail(key, err)
			return nil
		}
		return k
	default:
		f.fail(key, fmt.Errorf("%w %q of AppErrorKind", ErrUnknownVariant, tag))
		return nil
	}
	if !isUnitBody(body) {
		f.fail(key, fmt.Errorf("%s: expected a unit variant", tag))
		return nil
	}
	return unit
}

func (f *fields) poisonMessageType(key string) PoisonMessageType {
	tag, body, ok := f.enumMember(key)
	if !ok {
		return nil
	}
	sf := structFields(body)
	var m PoisonMessageType
	switch tag {
	case "Orchestration":
		m = PoisonOrchestration{
			Instance:    req[string](sf, "instance"),
			ExecutionID: req[uint64](sf, "execution_id"),
		}
	case "Activity":
		m = PoisonActivity{
			Instance:     req[string](sf, "instance"),
			ExecutionID:  req[uint64](sf, "execution_id"),
			ActivityName: req[string](sf, "activity_name"),
			ActivityID:   req[uint64](sf, "activity_id"),
		}
	case "FailedDeserialization":
		m = PoisonFailedDeserialization{
			Instance:    req[string](sf, "instance"),
			ExecutionID: req[uint64](sf, "execution_id"),
			Error:       req[string](sf, "error"),
		}
	default:
		f.fail(key, fmt.Errorf("%w %q of PoisonMessageType", ErrUnknownVariant, tag))
		return nil
	}
	if err := sf.done(tag); err != nil {
		f.fail(key, err)
		return nil
	}
	return m
}
