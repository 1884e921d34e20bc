// Package jsonfast decodes the most common JSON payload, a plain string,
// without reflection or allocation; everything else goes to encoding/json.
package jsonfast

import "encoding/json"

// PlainASCII reports whether s is printable ASCII without '"' or '\\': a
// JSON string body that encodes and decodes as itself (with HTML escaping
// off).
func PlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// PlainString returns the value of data when data is a JSON string literal
// whose body is [PlainASCII]: the value encoding/json would decode.
func PlainString(data string) (string, bool) {
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' && PlainASCII(data[1:len(data)-1]) {
		return data[1 : len(data)-1], true
	}
	return "", false
}

// Decode decodes data into a new T, as json.Unmarshal would. A string T
// from a plain string literal costs no allocation (a T decoded through
// encoding/json is allocated for it). On error it returns what was decoded
// so far, like json.Unmarshal leaves its target.
func Decode[T any](data string) (T, error) {
	var zero T
	if _, ok := any(zero).(string); ok {
		if s, ok := PlainString(data); ok {
			return any(s).(T), nil
		}
	}
	p := new(T)
	err := json.Unmarshal([]byte(data), p)
	return *p, err
}
