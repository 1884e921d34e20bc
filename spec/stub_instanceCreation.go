package spec

func instanceCreationCases() []Case { return nil }
