"""mypy plugin: where PySide6's stubs say less than PySide6 does. First, Qt property keywords in constructors
(``QLabel(text, objectName="x")``); then a short table of single methods (below ``_RETURNS``).

PySide6 lets a constructor set any Qt property by keyword, but its stubs list only the C++ parameters, so
every ``objectName=`` would be an error. Rather than silence those calls with ignores (or switch the error
codes off for all of ui/), this accepts a keyword exactly when the class has the matching setter
(``objectName`` -> ``setObjectName``) and checks the value against the setter's parameter, so a misspelt
property or a wrong value is still an error. Registered in pyproject.toml's [tool.mypy] plugins.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import ARG_NAMED, ARG_STAR2, CallExpr, FuncDef, OverloadedFuncDef, TypeInfo
from mypy.plugin import CheckerPluginInterface, FunctionSigContext, MethodContext, MethodSigContext, Plugin
from mypy.typeops import make_simplified_union
from mypy.types import CallableType, FunctionLike, Instance, NoneType, Type, UnionType, get_proper_type


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


# Single methods, each checked against PySide6 6.11 at run time (the stubs are generated from C++ signatures)
_RETURNS = {  # toPython() is typed ``object``; it gives the datetime type
    "PySide6.QtCore.QDate.toPython": "datetime.date",
    "PySide6.QtCore.QDateTime.toPython": "datetime.datetime",
    "PySide6.QtCore.QTime.toPython": "datetime.time",
}
_STR_PARAMS = {"PySide6.QtGui.QImage.save": "format"}  # typed bytes; PySide6 refuses bytes, takes "PNG"
_NONE_PARAMS = {"PySide6.QtMultimedia.QMediaPlayer.setVideoOutput"}  # None detaches the output


def _instance(api: CheckerPluginInterface, fullname: str) -> Instance:
    module, _, name = fullname.rpartition(".")
    info = api.modules[module].names[name].node
    assert isinstance(info, TypeInfo), fullname
    return Instance(info, [])


def _with_str_param(ctx: MethodSigContext, name: str) -> CallableType:
    sig = ctx.default_signature
    text = ctx.api.named_generic_type("builtins.str", [])
    return sig.copy_modified(arg_types=[UnionType([text, NoneType()]) if n == name else t
                                        for n, t in zip(sig.arg_names, sig.arg_types, strict=True)])


def _with_none_param(ctx: MethodSigContext) -> CallableType:
    sig = ctx.default_signature
    return sig.copy_modified(arg_types=[UnionType([sig.arg_types[0], NoneType()]), *sig.arg_types[1:]])


def _pixmap_cache_find(ctx: MethodSigContext) -> CallableType:
    """``QPixmapCache.find(key: str)`` is static and gives the pixmap or None; the stub has it as an instance
    method giving None."""
    sig = ctx.default_signature
    args = [get_proper_type(t) for t in sig.arg_types]
    if (len(args) == 2 and isinstance(args[1], Instance) and args[1].type.fullname == "builtins.str"
            and isinstance(get_proper_type(sig.ret_type), NoneType)):
        pixmap = _instance(ctx.api, "PySide6.QtGui.QPixmap")
        return sig.copy_modified(arg_types=sig.arg_types[1:], arg_kinds=sig.arg_kinds[1:],
                                 arg_names=sig.arg_names[1:], ret_type=UnionType([pixmap, NoneType()]))
    return sig


class QtPropertyKeywords(Plugin):
    def get_function_signature_hook(self, fullname: str) -> Callable[[FunctionSigContext], CallableType] | None:
        # fullname is the class for a constructor call; PySide6's own classes only (ours declare their keywords)
        return _with_property_keywords if fullname.startswith("PySide6.") else None

    def get_method_signature_hook(self, fullname: str) -> Callable[[MethodSigContext], CallableType] | None:
        if fullname in _STR_PARAMS:
            name = _STR_PARAMS[fullname]
            return lambda ctx: _with_str_param(ctx, name)
        if fullname in _NONE_PARAMS:
            return _with_none_param
        if fullname == "PySide6.QtGui.QPixmapCache.find":
            return _pixmap_cache_find
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname in _RETURNS:
            made = _RETURNS[fullname]
            return lambda ctx: _instance(ctx.api, made)
        return None


def plugin(version: str) -> type[Plugin]:
    return QtPropertyKeywords
