from kubecis.cli.main import main

raise SystemExit(main())
