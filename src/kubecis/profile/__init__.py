"""Runtime profiles: the syscalls, files and network endpoints a workload uses, learned -> audited -> enforced.

Builds on :mod:`kubecis.seccomp` (the syscall part, strace, libseccomp) and adds:

* :mod:`.paths`: the path-rule language (``/f``, ``/d/``, ``/d/**``, ``/d/pre*``) and the documented
  generalisation from observed paths to rules;
* :mod:`.model`: the profile document (YAML): parse with bounds, serialise, merge;
* :mod:`.observe`: strace output -> file and network events (pure), and the traced run;
* :mod:`.landlock`: the Landlock binding (ctypes) and the enforcement plan: which rule is enforced
  exactly, more coarsely, or not at all on this kernel;
* :mod:`.runner`: learn / enforce / audit; :mod:`.review`: show / diff; :mod:`.export`: AppArmor,
  security-profiles-operator objects, NetworkPolicy.

Nothing here is imported by ``kubecis run``.
"""

from kubecis.profile.errors import ProfileError

__all__ = ["ProfileError"]
