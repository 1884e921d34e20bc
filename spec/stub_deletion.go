package spec

func deletionCases() []Case { return nil }
