"""``munit-tf`` command lines for the tests, written as keyword arguments."""


def argv(*words, **options) -> list[str]:
    """``argv("evaluate", model=run, num_inputs=4, overwrite=True)`` ->
    ``["evaluate", "--model", run, "--num-inputs", "4", "--overwrite"]``.

    ``True`` is a bare flag; a list repeats the flag (``set=["a=1", "b=2"]``); a tuple gives one
    flag several values (``seeds=(0, 1)``); the order is kept.
    """
    out = [str(word) for word in words]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        for item in value if isinstance(value, list) else [value]:
            if item is True:
                out.append(flag)
            elif isinstance(item, tuple):
                out += [flag, *map(str, item)]
            else:
                out += [flag, str(item)]
    return out
