from farm_node.cli.farm import main

raise SystemExit(main())
