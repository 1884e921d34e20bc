package spec

func capabilityFilteringCases() []Case { return nil }
