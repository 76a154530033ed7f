import sys

from policy import main

sys.exit(main())
