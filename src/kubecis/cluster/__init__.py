"""Every node, one report: ``kubecis cluster scan|manifests|collect``.

This layer sits above host/: it uses the Kubernetes API (through :mod:`kubecis.cluster.api`, the only
module here that talks to a server) to run ``kubecis snapshot record`` once per node as a least-privilege
Job, brings each node's snapshot back through the pod log (:mod:`.payload`), and evaluates every snapshot
centrally into one merged result (:mod:`.model`, :mod:`.evaluate`, :mod:`.report`).

Modules (none imports the ``kubernetes`` client library at import time; only the cluster commands load it):

* :mod:`.payload`   framing of a snapshot in a pod log (length + sha256; a cut or corrupted payload is detected)
* :mod:`.nodes`     node facts from the API's Node objects, node selection, roles and platform
* :mod:`.decide`    per-node benchmark and targets, with the reasons ``--explain`` prints
* :mod:`.manifests` the Namespace and Jobs (least privilege derived from the chosen checks)
* :mod:`.model`     the merged results model (nodes x kube-bench results, coverage, policies)
* :mod:`.evaluate`  central evaluation of snapshots (a process pool for ``collect``)
* :mod:`.report`    merged text and JSON, per-node kube-bench JSON files
* :mod:`.api`       the thin Kubernetes API wrapper (on :class:`kubecis.host.kubeapi.KubeTransport`)
* :mod:`.scan`      the job lifecycle of ``cluster scan``
"""
