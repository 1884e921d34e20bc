package spec

func longPollingCases() []Case { return nil }
