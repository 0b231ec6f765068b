"""The experiments of the papers and of the demo, importable by the demo, the tests and the tutorials.

* :mod:`optim.experiments.online`: the online convex problem of Reddi, Kale & Kumar
  (2018), Section 3, on which Adam fails to converge and AMSGrad does not;
* :mod:`optim.experiments.digits`: an MLP trained on the bundled digits with each optimizer.

Nothing here prints results (:mod:`optim.cli.demo` does); with ``progress=True`` a bar
shows on a terminal's standard error when tqdm is installed (:mod:`optim.experiments.progress`).
"""
