"""Go's formats, on the ground floor: what kube-bench's and kubectl's output is made of.

kube-bench and kubectl are Go programs; kubecis reproduces their output byte for byte, so it needs Go's
own rules where Python's differ. Each module ports one Go package (or library) and nothing else; none of
them imports anything of kubecis but :mod:`kubecis.errors` and :mod:`kubecis.yamllimits`, so the
evaluator (:mod:`kubecis.evaluate`), the native interpreter (:mod:`kubecis.audit.native`) and the reports
share one implementation:

* :mod:`~kubecis.golang.fmt` -- ``%q`` (strconv.Quote), ``%v`` of float64 and of decoded values;
* :mod:`~kubecis.golang.json` -- encoding/json's string and number encoding, Marshal and MarshalIndent;
* :mod:`~kubecis.golang.jsonpath` -- client-go's JSONPath template parser and evaluator;
* :mod:`~kubecis.golang.regexp` -- Go (RE2) regular expressions compiled with Python's ``re``;
* :mod:`~kubecis.golang.yaml` -- decoding JSON / go-yaml v2 into Go's generic values;
* :mod:`~kubecis.golang.yamlemit` -- go-yaml v2's emitter (``kubectl -o yaml``);
* :mod:`~kubecis.golang.tabwriter` -- text/tabwriter (kubectl's tables and describe output);
* :mod:`~kubecis.golang.values` -- the Go types the decoded values stand for.

Why hand-written: no Python library reproduces these byte for byte. client-go's JSONPath is a template
language of its own (the JSONPath libraries implement other dialects); PyYAML parses, but go-yaml v2's
resolver and emitter differ from PyYAML's; the standard ``json`` encoder neither escapes HTML nor formats
float64 as Go does. Go's regexp syntax is translated to ``re`` rather than compiled by ``google-re2``: the few
patterns benchmark definitions hold (``regex`` compare values, flag and env names) mean the same in both
after translation, the translator already refuses what RE2 refuses (with the messages the check reasons and
tests pin), and ``google-re2`` would add a compiled dependency to every node for them. Errors are
:class:`~kubecis.golang.errors.GoError` subclasses. Nothing is imported here: import the module you need.
"""

from __future__ import annotations

__all__: list[str] = []
