package spec

import (
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// docSections names, per group, the sections of docs/provider-semantics.md
// that state the group's rules (TestDocSectionsExist checks that each
// heading exists and names the group).
var docSections = map[string][]string{
	"atomicity":            {"2. The lock model"},
	"bulk_deletion":        {"Management, deletion, pruning"},
	"cancellation":         {"Cancellation"},
	"capability_filtering": {"Capability filtering"},
	"custom_status":        {"Custom status"},
	"deletion":             {"Management, deletion, pruning"},
	"error_handling":       {"2. The lock model"},
	"instance_creation":    {"Instance creation and executions"},
	"instance_locking":     {"2. The lock model", "Orchestrator queue and batching"},
	"kv_store":             {"Key/value state"},
	"lock_expiration":      {"2. The lock model", "Worker queue"},
	"long_polling":         {"3. Time"},
	"management":           {"Management, deletion, pruning"},
	"multi_execution":      {"Instance creation and executions"},
	"poison_message":       {"Orchestrator queue and batching", "Worker queue"},
	"prune":                {"Management, deletion, pruning"},
	"queue_semantics":      {"Orchestrator queue and batching", "Worker queue"},
	"sessions":             {"Sessions"},
	"tag_filtering":        {"Tags"},
}

// docSectionsOf returns the headings of the sections of
// docs/provider-semantics.md that state group's rules, nil for a group it
// does not know. The slice is the caller's.
func docSectionsOf(group string) []string {
	return append([]string(nil), docSections[group]...)
}

// Source returns where c's rule is written down: the case function's name
// and its file and line ("spec.sessionsRenewal (spec/sessions.go:712)"),
// whose doc comment states the rule. It returns "" for a case without Run.
func (c Case) Source() string {
	if c.Run == nil {
		return ""
	}
	f := runtime.FuncForPC(reflect.ValueOf(c.Run).Pointer())
	if f == nil {
		return ""
	}
	file, line := f.FileLine(f.Entry())
	if i := strings.LastIndex(file, "/spec/"); i >= 0 {
		file = file[i+1:]
	} else {
		file = filepath.Base(file)
	}
	name := f.Name()
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return fmt.Sprintf("%s (%s:%d)", name, file, line)
}

// ruleNote is the line added to a failed case: which rule it checks, at
// which level, and where the rule is documented.
func ruleNote(c Case) string {
	note := fmt.Sprintf("rule %s (level %s)", c.FullName(), c.Level)
	if src := c.Source(); src != "" {
		note += " is stated in the doc comment of " + src
	}
	if secs := docSections[c.Group]; len(secs) > 0 {
		quoted := make([]string, len(secs))
		for i, s := range secs {
			quoted[i] = strconv.Quote(s)
		}
		note += "; see docs/provider-semantics.md, section " + strings.Join(quoted, " and ")
	}
	return note
}

var (
	// typedPointer is %#v of a pointer: "(*string)(0xc000012345)".
	typedPointer = regexp.MustCompile(`(\(\*[^()"]+\))\(0x[0-9a-f]+\)`)
	// heapAddress is a bare Go heap address, as %v prints a pointer field.
	heapAddress = regexp.MustCompile(`\b0xc[0-9a-f]{9}\b`)
	// hexNumber is an unsigned integer as %#v prints it: "0x1f".
	hexNumber = regexp.MustCompile(`\b0x[0-9a-f]+\b`)
)

// readable rewrites a failure message for people: testify prints unsigned
// integers (event and execution ids, counts) in hexadecimal and pointers as
// addresses, because it formats values with %#v. Outside quoted strings,
// readable prints pointers as "(*T)(non-nil)" and bare heap addresses as
// "<pointer>" (testify's Diff section shows the values pointed to), and
// hexadecimal numbers in decimal.
func readable(s string) string {
	if !strings.Contains(s, "0x") {
		return s
	}
	var b strings.Builder
	for s != "" {
		q := quoteStart(s)
		b.WriteString(unhex(s[:q]))
		s = s[q:]
		if s == "" {
			break
		}
		end := quoteEnd(s)
		b.WriteString(s[:end])
		s = s[end:]
	}
	return b.String()
}

// quoteStart returns the index of the first double quote in s, or len(s).
func quoteStart(s string) int {
	if i := strings.IndexByte(s, '"'); i >= 0 {
		return i
	}
	return len(s)
}

// quoteEnd returns the length of the quoted string s starts with (escapes
// honoured), or len(s) when it does not end.
func quoteEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

// unhex rewrites pointers and hexadecimal numbers in unquoted text.
func unhex(s string) string {
	s = typedPointer.ReplaceAllString(s, "${1}(non-nil)")
	s = heapAddress.ReplaceAllString(s, "<pointer>")
	return hexNumber.ReplaceAllStringFunc(s, func(h string) string {
		v, err := strconv.ParseUint(h[2:], 16, 64)
		if err != nil {
			return h
		}
		return strconv.FormatUint(v, 10)
	})
}
