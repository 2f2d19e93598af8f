from farm_node.cli import main

raise SystemExit(main())
