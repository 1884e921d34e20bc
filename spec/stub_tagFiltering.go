package spec

func tagFilteringCases() []Case { return nil }
