package pgprovider

import (
	"fmt"
	"reflect"
	"strings"
)

// For the external test package pgprovider_test, which builds its harnesses
// with internal/pgharness (an in-package test cannot import it: pgharness
// imports pgprovider).

// TestPool is testPool: the shared pool of the test binary, skipping (or
// failing, in CI) without a DSN.
var TestPool = testPool

// RaceSlack is raceSlack, in milliseconds.
const RaceSlack = raceSlack

// MutateSQL replaces the first from in p's statement field with to: the SQL
// mutants of TestSQLMutants. Only tests can reach it (this file is compiled
// into the package's tests alone). It fails when field is unknown or does
// not contain from, so a mutant can never silently be the original.
func MutateSQL(p *Provider, field, from, to string) error {
	v := reflect.ValueOf(&p.sql).Elem().FieldByName(field)
	if !v.IsValid() || v.Kind() != reflect.String {
		return fmt.Errorf("no statement %q", field)
	}
	s := v.String()
	if !strings.Contains(s, from) {
		return fmt.Errorf("statement %s does not contain %q:\n%s", field, from, s)
	}
	v.SetString(strings.Replace(s, from, to, 1))
	return nil
}
