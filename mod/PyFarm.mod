+ PyFarm 0.1.0 ..
PYTHONPATH +:= .
