package spec

func cancellationCases() []Case { return nil }
