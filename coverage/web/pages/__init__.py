"""One module per page of the site: patient finder, prescriber, registry, planners' desk."""
