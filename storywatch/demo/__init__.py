"""The bundled sample site and the `storywatch demo` command."""
