package spec

func managementCases() []Case { return nil }
