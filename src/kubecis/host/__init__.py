"""Everything that reads the machine goes through :class:`kubecis.host.base.Host`."""
