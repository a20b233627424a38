"""mypy plugin: Qt property keywords in PySide6 constructors (``QLabel(text, objectName="x")``).

PySide6 lets a constructor set any Qt property by keyword, but its stubs list only the C++ parameters, so
every ``objectName=`` would be an error. Rather than silence those calls with ignores (or switch the error
codes off for all of ui/), this accepts a keyword exactly when the class has the matching setter
(``objectName`` -> ``setObjectName``) and checks the value against the setter's parameter, so a misspelt
property or a wrong value is still an error. Registered in pyproject.toml's [tool.mypy] plugins.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import ARG_NAMED, ARG_STAR2, CallExpr, FuncDef, OverloadedFuncDef, TypeInfo
from mypy.plugin import FunctionSigContext, Plugin
from mypy.typeops import make_simplified_union
from mypy.types import CallableType, FunctionLike, Instance, Type, get_proper_type


def _setter_value_type(info: TypeInfo, prop: str) -> Type | None:
    """The type a property accepts: the value parameter of its setter, None when the class has no such setter."""
    setter = info.get_method("set" + prop[:1].upper() + prop[1:])
    if not isinstance(setter, FuncDef | OverloadedFuncDef) or not isinstance(setter.type, FunctionLike):
        return None
    values = [item.arg_types[1] for item in setter.type.items if len(item.arg_types) == 2]
    return make_simplified_union(values) if values else None


def _with_property_keywords(ctx: FunctionSigContext) -> CallableType:
    signature = ctx.default_signature
    call = ctx.context
    made = get_proper_type(signature.ret_type)
    if not isinstance(call, CallExpr) or not isinstance(made, Instance) or ARG_STAR2 in signature.arg_kinds:
        return signature
    names: list[str | None] = []
    types: list[Type] = []
    for name in call.arg_names:
        if name is None or name in signature.arg_names or name in names:
            continue
        value_type = _setter_value_type(made.type, name)
        if value_type is not None:  # anything else stays an unexpected keyword for mypy to report
            names.append(name)
            types.append(value_type)
    if not names:
        return signature
    return signature.copy_modified(
        arg_types=[*signature.arg_types, *types],
        arg_kinds=[*signature.arg_kinds, *[ARG_NAMED] * len(names)],
        arg_names=[*signature.arg_names, *names],
    )


class QtPropertyKeywords(Plugin):
    def get_function_signature_hook(self, fullname: str) -> Callable[[FunctionSigContext], CallableType] | None:
        # fullname is the class for a constructor call; PySide6's own classes only (ours declare their keywords)
        return _with_property_keywords if fullname.startswith("PySide6.") else None


def plugin(version: str) -> type[Plugin]:
    return QtPropertyKeywords
