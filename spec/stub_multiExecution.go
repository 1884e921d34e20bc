package spec

func multiExecutionCases() []Case { return nil }
