package spec

func errorHandlingCases() []Case { return nil }
