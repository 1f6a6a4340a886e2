from taxonomy.cli import main

raise SystemExit(main())
