package spec

func customStatusCases() []Case { return nil }
