#!/usr/bin/env python3
"""Checks examples/python/main.py against the generated Python bindings, without running it.

The example needs the jsii runtime and cdk8s from PyPI to run; this checker
needs only the standard library. It

  1. compiles main.py (py_compile; the bytecode goes to a temporary folder);
  2. reads the generated erp_k8s/__init__.py (jsii-pacmak --targets python)
     with `ast`, and checks every erp_k8s name main.py imports or uses
     (`from erp_k8s import X`, `erp_k8s.X`, `X.member`);
  3. checks every call of an erp_k8s class, struct or static method, and of a
     method of a variable holding one: positional arguments, keyword
     arguments (each must be a parameter of the generated signature; the
     required ones must be given), and, where the value's type is known from
     the code (a literal, a struct or construct made here, a cdk8s
     Duration/Size), that the parameter's annotation accepts it; a dict given
     for a struct has its keys checked like keyword arguments;
  4. checks that the names from cdk8s and constructs are imported from those
     packages (their Python bindings are not generated here) and that every
     name main.py reads is defined;
  5. when README.md is found two folders up, that it shows main.py verbatim
     between <!-- python-example:start --> and <!-- python-example:end -->.

Usage: check.py <erp_k8s/__init__.py, or a folder holding it> [main.py]
  e.g. npm run jsii:python && python3 examples/python/check.py dist-jsii/python-src
  (or npx jsii-pacmak --targets python --code-only -o /tmp/py, then check.py /tmp/py)
Prints what it checked; exits 1 with the file, line and mismatch on any error.
"""
import ast
import builtins
import difflib
import os
import py_compile
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EXTERNAL_PACKAGES = ("cdk8s", "constructs")
# cdk8s factories whose return type is their class (the only cdk8s values main.py types by)
EXTERNAL_FACTORIES = {("cdk8s", "Duration"), ("cdk8s", "Size")}

# the Python members of constructs.Construct (constructs 10): what an erp_k8s construct inherits besides its own
CONSTRUCT_MEMBERS = {"node", "to_string", "with_", "is_construct"}

errors = []
checked = []
unchecked = []
checked_file = "main.py"


def error(node, message):
    line = f"{checked_file}:{getattr(node, 'lineno', '?')}: {message}"
    if line not in errors:
        errors.append(line)


def suggest(name, candidates):
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def find_bindings(arg):
    if os.path.isfile(arg):
        return arg
    for root, _dirs, files in os.walk(arg):
        if os.path.basename(root) == "erp_k8s" and "__init__.py" in files:
            return os.path.join(root, "__init__.py")
    sys.exit(f"check.py: no erp_k8s/__init__.py under {arg} (generate it: npm run jsii:python, then pass dist-jsii/python-src)")


# ---------------------------------------------------------------- the bindings

class Signature:
    """The parameters of one generated function (self/cls dropped)."""

    def __init__(self, fn, drop_first):
        a = fn.args
        positional = a.posonlyargs + a.args
        if drop_first:
            positional = positional[1:]
        n_defaults = len(a.defaults)
        self.positional = [p.arg for p in positional]
        self.required_positional = self.positional[: len(self.positional) - n_defaults] if n_defaults else list(self.positional)
        self.keyword_only = [p.arg for p in a.kwonlyargs]
        self.required_keywords = [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None]
        self.annotations = {p.arg: p.annotation for p in positional + a.kwonlyargs}
        self.returns = fn.returns
        self.var_keywords = a.kwarg is not None


class BoundClass:
    def __init__(self, node, module):
        self.name = node.name
        self.module = module
        self.bases = []  # names of erp_k8s classes
        self.external_bases = []  # "cdk8s.Chart", ...
        for b in node.bases:
            if isinstance(b, ast.Name):
                self.bases.append(b.id)
            elif isinstance(b, ast.Attribute) and isinstance(b.value, ast.Name):
                self.external_bases.append(f"{module.aliases.get(b.value.id, b.value.id)}.{b.attr}")
        self.implements = []
        for d in node.decorator_list:  # @jsii.implements(IDatabase)
            if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "implements":
                self.implements += [x.id for x in d.args if isinstance(x, ast.Name)]
        self.is_enum = any(isinstance(b, ast.Attribute) and b.attr == "Enum" for b in node.bases)
        self.methods = {}  # name -> (Signature, kind: 'class' | 'instance' | 'property')
        self.attributes = set()
        for item in node.body:
            if isinstance(item, ast.FunctionDef):
                decorators = {d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", None) for d in item.decorator_list}
                if decorators & {"classmethod", "staticmethod"}:
                    kind = "class"
                elif decorators & {"classproperty"}:
                    kind = "classproperty"
                elif "property" in decorators or any(isinstance(d, ast.Attribute) and d.attr == "setter" for d in item.decorator_list):
                    kind = "property"
                else:
                    kind = "instance"
                if item.name not in self.methods:  # a property's setter keeps its getter
                    self.methods[item.name] = (Signature(item, drop_first="staticmethod" not in decorators), kind)
                self.attributes.add(item.name)
            elif isinstance(item, ast.Assign):
                self.attributes.update(t.id for t in item.targets if isinstance(t, ast.Name))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                self.attributes.add(item.target.id)

    def lookup(self, member):
        """(owner class, entry) of `member` here or in an erp_k8s base, else (None, None)."""
        seen = set()
        todo = [self]
        while todo:
            c = todo.pop(0)
            if c.name in seen:
                continue
            seen.add(c.name)
            if member in c.methods:
                return c, c.methods[member]
            if member in c.attributes:
                return c, None
            todo += [self.module.classes[b] for b in c.bases if b in self.module.classes]
        return None, None

    def supertypes(self):
        out, todo = set(), [self.name]
        while todo:
            n = todo.pop()
            if n in out or n not in self.module.classes:
                out.add(n)
                continue
            out.add(n)
            c = self.module.classes[n]
            todo += c.bases + c.implements
        return out

    def all_external_bases(self):
        out, todo, seen = [], [self], set()
        while todo:
            c = todo.pop()
            if c.name in seen:
                continue
            seen.add(c.name)
            out += c.external_bases
            todo += [self.module.classes[b] for b in c.bases if b in self.module.classes]
        return out


class Bindings:
    def __init__(self, path):
        self.path = path
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        self.aliases = {}  # _cdk8s_d3d9af27 -> cdk8s
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.aliases[a.asname] = a.name
        self.classes = {}
        self.public = set()
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                self.classes[node.name] = BoundClass(node, self)
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
                self.public.update(e.value for e in node.value.elts)
            elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_SUBMODULES" for t in node.targets):
                self.public.update(e.value for e in node.value.elts)
        self.public |= set(self.classes)


# ---------------------------------------------------------------- main.py

class Checker(ast.NodeVisitor):
    def __init__(self, bindings):
        self.b = bindings
        self.erp_names = {}  # local name -> erp_k8s class (or submodule) name
        self.erp_modules = set()  # local names of `import erp_k8s`
        self.external = {}  # local name -> (package, name)
        self.types = {}  # variable -> ('erp', Class) | ('ext', (package, name))
        self.defined = set(dir(builtins))

    # ---- names
    def visit_Import(self, node):
        for a in node.names:
            local = a.asname or a.name.split(".")[0]
            self.defined.add(local)
            if a.name == "erp_k8s":
                self.erp_modules.add(local)
                checked.append(f"import erp_k8s (line {node.lineno})")
            elif a.name.split(".")[0] in EXTERNAL_PACKAGES:
                checked.append(f"import {a.name} (line {node.lineno}): not checked further (its bindings are not generated here)")
            else:
                unchecked.append(f"import {a.name} (line {node.lineno})")

    def visit_ImportFrom(self, node):
        module = node.module or ""
        for a in node.names:
            local = a.asname or a.name
            self.defined.add(local)
            if module == "erp_k8s":
                if a.name not in self.b.public:
                    error(node, f"'{a.name}' is not exported by the generated erp_k8s module{suggest(a.name, self.b.public)}")
                else:
                    self.erp_names[local] = a.name
            elif module.split(".")[0] in EXTERNAL_PACKAGES:
                self.external[local] = (module, a.name)
            else:
                unchecked.append(f"from {module} import {a.name} (line {node.lineno})")
        if module == "erp_k8s":
            checked.append(f"from erp_k8s import {', '.join(a.name for a in node.names)} (line {node.lineno}): "
                           f"{len(node.names)} names, each exported by the bindings")
        elif module.split(".")[0] in EXTERNAL_PACKAGES:
            checked.append(f"from {module} import {', '.join(a.name for a in node.names)} (line {node.lineno}): "
                           f"imported from {module} (its bindings are not generated here: names not checked further)")

    def erp_class(self, expr):
        """The erp_k8s class an expression names (`X` imported from erp_k8s, or `erp_k8s.X`), else None."""
        if isinstance(expr, ast.Name) and expr.id in self.erp_names:
            return self.b.classes.get(self.erp_names[expr.id])
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in self.erp_modules:
            if expr.attr not in self.b.public:
                error(expr, f"erp_k8s.{expr.attr} does not exist in the generated module{suggest(expr.attr, self.b.public)}")
                return None
            return self.b.classes.get(expr.attr)
        return None

    def visit_Attribute(self, node):
        # erp_k8s.X, and Class.MEMBER for an erp_k8s class (enum values, constants, static methods)
        if isinstance(node.value, ast.Name) and node.value.id in self.erp_modules:
            self.erp_class(node)
        cls = self.erp_class(node.value)
        if cls is not None:
            owner, _ = cls.lookup(node.attr)
            if owner is None:
                members = set(cls.methods) | cls.attributes
                error(node, f"{cls.name}.{node.attr} does not exist in the generated class{suggest(node.attr, members)}")
            elif not isinstance(getattr(node, "parent", None), ast.Call) or node.parent.func is not node:
                checked.append(f"{cls.name}.{node.attr} (line {node.lineno}) exists")
        elif isinstance(node.value, ast.Name) and not (isinstance(getattr(node, "parent", None), ast.Call) and node.parent.func is node):
            held = self.type_of(node.value)  # variable.property
            if held is not None and held[0] == "erp":
                found, _ = held[1].lookup(node.attr)
                bases = held[1].all_external_bases()
                members = set(held[1].methods) | held[1].attributes
                if found is not None or (bases == ["constructs.Construct"] and node.attr in CONSTRUCT_MEMBERS):
                    checked.append(f"{node.value.id}.{node.attr} (line {node.lineno}): a member of {held[1].name}")
                elif bases and bases != ["constructs.Construct"]:
                    unchecked.append(f"{node.value.id}.{node.attr} (line {node.lineno}): not in {held[1].name}; "
                                     f"perhaps inherited from {', '.join(bases)}")
                else:
                    error(node, f"{node.value.id}.{node.attr}: {held[1].name} has no such member"
                                f"{suggest(node.attr, members | (CONSTRUCT_MEMBERS if bases else set()))}")
        self.generic_visit(node)

    # ---- assignments: remember what a variable holds
    def visit_Assign(self, node):
        self.visit(node.value)
        t = ("const", node.value) if isinstance(node.value, ast.Constant) else self.type_of(node.value)
        for target in node.targets:
            for n in ast.walk(target):
                if isinstance(n, ast.Name):
                    self.defined.add(n.id)
                    if t is not None and isinstance(target, ast.Name):
                        self.types[target.id] = t

    def visit_ListComp(self, node):
        for g in node.generators:
            for n in ast.walk(g.target):
                if isinstance(n, ast.Name):
                    self.defined.add(n.id)
        self.generic_visit(node)

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node):
        self.visit_ListComp(node)

    def visit_For(self, node):
        for n in ast.walk(node.target):
            if isinstance(n, ast.Name):
                self.defined.add(n.id)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        self.defined.add(node.name)
        for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
            self.defined.add(a.arg)
        self.generic_visit(node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load) and node.id not in self.defined:
            error(node, f"'{node.id}' is not defined (not imported, not assigned before this line)")

    # ---- types
    def annotation_type(self, ann):
        """The type a return annotation names, when it is one erp_k8s class or one external class."""
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(ann, ast.Name) and ann.id in self.b.classes:
            return ("erp", self.b.classes[ann.id])
        if isinstance(ann, ast.Attribute) and isinstance(ann.value, ast.Name) and ann.value.id in self.b.aliases:
            return ("ext", (self.b.aliases[ann.value.id], ann.attr))
        return None

    def type_of(self, value):
        if isinstance(value, ast.Name) and value.id in self.types:
            t = self.types[value.id]
            return None if t[0] == "const" else t
        if not isinstance(value, ast.Call):
            return None
        f = value.func
        cls = self.erp_class(f)
        if cls is not None:
            return ("erp", cls)
        if isinstance(f, ast.Attribute):
            owner_cls = self.erp_class(f.value)
            if owner_cls is not None:  # Class.static(...)
                _, entry = owner_cls.lookup(f.attr)
                return self.annotation_type(entry[0].returns) if entry else None
            held = self.type_of(f.value) if isinstance(f.value, (ast.Name, ast.Call)) else None
            if held and held[0] == "erp":  # variable.method(...)
                _, entry = held[1].lookup(f.attr)
                return self.annotation_type(entry[0].returns) if entry else None
            if isinstance(f.value, ast.Name) and f.value.id in self.external:
                ext = self.external[f.value.id]
                if ext in EXTERNAL_FACTORIES:
                    return ("ext", ext)
        if isinstance(f, ast.Name) and f.id in self.external:
            return ("ext", self.external[f.id])
        return None

    def describe(self, t):
        return t[1].name if t[0] == "erp" else f"{t[1][0]}.{t[1][1]}"

    def accepts(self, ann, value, where):
        """True / False whether annotation `ann` accepts `value`; None when it cannot be told. Records errors in nested dicts."""
        if ann is None:
            return None
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            ann = ast.parse(ann.value, mode="eval").body
        if isinstance(value, ast.Name) and self.types.get(value.id, (None,))[0] == "const":
            value = self.types[value.id][1]  # a name bound to a literal: the literal
        if isinstance(ann, ast.Subscript):
            head = ast.unparse(ann.value)
            args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if head == "typing.Optional":
                if isinstance(value, ast.Constant) and value.value is None:
                    return True
                return self.accepts(args[0], value, where)
            if head == "typing.Union":
                results = [self.accepts(a, value, where) for a in args]
                if True in results:
                    return True
                return None if None in results else False
            if head in ("typing.Sequence", "typing.List"):
                if isinstance(value, (ast.List, ast.Tuple)):
                    results = [self.accepts(args[0], e, f"{where}[{i}]") for i, e in enumerate(value.elts)]
                    for i, r in enumerate(results):
                        if r is False:
                            error(value.elts[i], f"{where}[{i}]: {ast.unparse(value.elts[i])} is not a {ast.unparse(args[0])}")
                    return True
                return False if isinstance(value, (ast.Constant, ast.Dict)) else None
            if head in ("typing.Mapping", "typing.Dict"):
                if isinstance(value, ast.Dict):
                    return True
                return False if isinstance(value, (ast.Constant, ast.List, ast.Tuple)) else None
            return None
        text = ast.unparse(ann)
        if text == "typing.Any":
            return True
        if isinstance(value, ast.Constant):
            v = value.value
            if text == "builtins.str":
                return isinstance(v, str)
            if text == "builtins.bool":
                return isinstance(v, bool)
            if text == "jsii.Number":
                return isinstance(v, (int, float)) and not isinstance(v, bool)
            return False
        if isinstance(value, ast.JoinedStr):
            return text == "builtins.str"
        if isinstance(value, (ast.List, ast.Tuple, ast.Dict)):
            target = self.annotation_type(ann)
            if isinstance(value, ast.Dict) and target and target[0] == "erp" and "__init__" in target[1].methods:
                # a dict for a struct: jsii builds the struct from it (Struct(**d)), so its keys are keyword arguments
                keys = [k for k in value.keys]
                if all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in keys):
                    self.check_arguments(value, target[1], "__init__", target[1].methods["__init__"][0], [],
                                         [(k.value, v, k) for k, v in zip(keys, value.values)], f"{where} (a dict for {target[1].name})")
                    return True
            return False
        t = self.type_of(value)
        if t is None:
            return None
        target = self.annotation_type(ann)
        if target is None:
            return None if t[0] == "erp" else (False if text in ("builtins.str", "builtins.bool", "jsii.Number") else None)
        if target[0] == "erp" and t[0] == "erp":
            return target[1].name in t[1].supertypes()
        if target[0] == "ext" and t[0] == "ext":
            if target[1][1] == t[1][1] and target[1][0].split(".")[0] == t[1][0].split(".")[0]:
                return True
            # a Duration where a Size goes (or the reverse) is wrong; other classes may inherit (a Chart is a Construct)
            return False if target[1] in EXTERNAL_FACTORIES and t[1] in EXTERNAL_FACTORIES else None
        if target[0] == "ext" and t[0] == "erp":  # an erp_k8s construct where a cdk8s/constructs class is expected
            bases = t[1].all_external_bases()
            return True if any(b.endswith("." + target[1][1]) for b in bases) else None
        return False

    def check_arguments(self, node, cls, member, sig, args, keywords, label):
        """Positional `args` and `keywords` [(name, value, node)] against `sig`."""
        if len(args) > len(sig.positional):
            error(node, f"{label}: {len(args)} positional arguments, the generated signature takes {len(sig.positional)} "
                        f"({', '.join(sig.positional) or 'none'}); pass the others as keyword arguments")
        elif len(args) < len(sig.required_positional):
            missing = sig.required_positional[len(args):]
            given = {k for k, _, _ in keywords}
            if not set(missing) <= given:
                error(node, f"{label}: missing positional argument(s) {', '.join(missing)}")
        allowed = sig.positional + sig.keyword_only
        given = []
        typed, untold = [], []
        for name, value, at in keywords:
            if name is None:
                unchecked.append(f"{label}: **kwargs (line {node.lineno})")
                continue
            if name not in allowed:
                error(at, f"{label}: '{name}' is not a parameter of the generated {cls.name}.{member}{suggest(name, allowed)}")
                continue
            given.append(name)
            ok = self.accepts(sig.annotations.get(name), value, f"{label} {name}")
            (typed if ok is not None else untold).append(name)
            if ok is False:
                error(at, f"{label}: {name}={ast.unparse(value)} does not match the generated annotation "
                          f"{ast.unparse(sig.annotations[name])}")
        for i, value in enumerate(args[: len(sig.positional)]):
            name = sig.positional[i]
            ok = self.accepts(sig.annotations.get(name), value, f"{label} {name}")
            (typed if ok is not None else untold).append(name)
            if ok is False:
                error(value, f"{label}: argument {i + 1} ({name}) {ast.unparse(value)} does not match the generated annotation "
                             f"{ast.unparse(sig.annotations[name])}")
        has_star = any(k is None for k, _, _ in keywords)
        missing = [k for k in sig.required_keywords if k not in given]
        if missing and not has_star:
            error(node, f"{label}: required keyword argument(s) missing: {', '.join(missing)}")
        checked.append(f"{label} (line {node.lineno}): {len(args)} positional"
                       + (f", keywords {', '.join(given)}" if given else ", no keywords")
                       + (f" (required: {', '.join(sig.required_keywords)})" if sig.required_keywords else "")
                       + (f"; types checked: {', '.join(typed)}" if typed else "")
                       + (f"; types not known here: {', '.join(untold)}" if untold else ""))

    def visit_Call(self, node):
        for child in ast.iter_child_nodes(node):
            child.parent = node
        f = node.func
        keywords = [(k.arg, k.value, k) for k in node.keywords]
        cls = self.erp_class(f)
        if cls is not None:  # Class(...)
            if cls.is_enum:
                error(node, f"{cls.name} is an enum: use its members ({cls.name}.X), do not call it")
            elif "__init__" not in cls.methods:
                error(node, f"{cls.name} has no public constructor in the generated bindings (a static factory or an interface)")
            else:
                self.check_arguments(node, cls, "__init__", cls.methods["__init__"][0], node.args, keywords, f"{cls.name}(...)")
        elif isinstance(f, ast.Attribute):
            owner = self.erp_class(f.value)
            held = None if owner is not None else self.type_of(f.value)
            if owner is not None:  # Class.static(...)
                found, entry = owner.lookup(f.attr)
                if found is None:
                    pass  # reported by visit_Attribute
                elif entry is None or entry[1] != "class":
                    error(node, f"{owner.name}.{f.attr} is not a static method of the generated class (an instance member or a constant)")
                else:
                    self.check_arguments(node, owner, f.attr, entry[0], node.args, keywords, f"{owner.name}.{f.attr}(...)")
            elif held is not None and held[0] == "erp":  # variable.method(...)
                found, entry = held[1].lookup(f.attr)
                var = ast.unparse(f.value)
                if found is None:
                    bases = held[1].all_external_bases()
                    members = set(held[1].methods) | held[1].attributes
                    if bases == ["constructs.Construct"] and f.attr not in CONSTRUCT_MEMBERS:
                        error(node, f"{var}.{f.attr}: neither {held[1].name} nor constructs.Construct has such a member"
                                    f"{suggest(f.attr, members | CONSTRUCT_MEMBERS)} (Python names are snake_case)")
                    elif bases:
                        unchecked.append(f"{var}.{f.attr}(...) (line {node.lineno}): not in {held[1].name}; "
                                         f"perhaps inherited from {', '.join(bases)}")
                    else:
                        error(node, f"{var}.{f.attr}: {held[1].name} has no such member{suggest(f.attr, members)}")
                elif entry is None or entry[1] not in ("instance", "class"):
                    error(node, f"{var}.{f.attr} is a property of {held[1].name}, not a method: drop the call")
                else:
                    self.check_arguments(node, held[1], f.attr, entry[0], node.args, keywords, f"{var}.{f.attr}(...) [{held[1].name}]")
            elif isinstance(f.value, ast.Name) and f.value.id in self.external:
                checked.append(f"{ast.unparse(f)}(...) (line {node.lineno}): {f.value.id} is imported from "
                               f"{self.external[f.value.id][0]}")
        elif isinstance(f, ast.Name) and f.id in self.external:
            checked.append(f"{f.id}(...) (line {node.lineno}): imported from {self.external[f.id][0]}")
        self.generic_visit(node)


def check_readme(main_text):
    readme = os.path.join(HERE, "..", "..", "README.md")
    if not os.path.exists(readme):
        return
    text = open(readme, encoding="utf-8").read()
    m = re.search(r"<!-- python-example:start -->\s*```python\n(.*?)```\s*<!-- python-example:end -->", text, re.S)
    if not m:
        errors.append("README.md: no ```python block between <!-- python-example:start --> and <!-- python-example:end -->")
    elif m.group(1) != main_text:
        errors.append("README.md: the Python example differs from examples/python/main.py: paste the file between the markers again")
    else:
        checked.append("README.md shows main.py verbatim between <!-- python-example:start --> and <!-- python-example:end -->")
    if "'''" in text:
        errors.append("README.md holds ''' : jsii-pacmak puts the README into the Python module's r'''...''' docstring")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    bindings_path = find_bindings(sys.argv[1])
    main_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "main.py")
    global checked_file
    checked_file = os.path.basename(main_path)
    main_text = open(main_path, encoding="utf-8").read()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            py_compile.compile(main_path, cfile=os.path.join(tmp, "main.pyc"), doraise=True)
            checked.append(f"py_compile {os.path.relpath(main_path)} (Python {sys.version.split()[0]})")
        except py_compile.PyCompileError as e:
            print(f"FAIL  {e.msg}")
            return 1
    b = Bindings(bindings_path)
    print(f"bindings: {bindings_path} ({len(b.classes)} classes, {len(b.public)} public names)")
    tree = ast.parse(main_text, main_path)
    Checker(b).visit(tree)
    if os.path.abspath(main_path) == os.path.join(HERE, "main.py"):
        check_readme(main_text)
    for line in checked:
        print(f"  ok    {line}")
    for line in unchecked:
        print(f"  --    not checked: {line}")
    for line in errors:
        print(f"  FAIL  {line}")
    print(f"{len(checked)} checked, {len(unchecked)} not checked, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
