package spec

func instanceLockingCases() []Case { return nil }
