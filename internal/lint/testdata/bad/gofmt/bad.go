package bad

func   Bad( ) {}
