# iso: the input functions of the rules and the arguments they add to the steps' command lines.


def iso_efp_tables(model=None):
    """The merged EFP tables a model reads (every table for the search)."""
    cfg = ISO_MODELS[model] if model else {"kind": "cones_efps", "efps": "guided"}
    if cfg["kind"] != "cones_efps":
        return []
    if cfg["efps"] == "guided":
        sets = ISO_KB
    else:
        sets = []
        for column in cfg["efps"]:
            kappa, beta, _ = EFP_COLUMN.match(column).groups()
            kb = (fmt_number(kappa), fmt_number(beta))
            if kb not in sets:
                sets.append(kb)
    return [ISO_EFP.format(kappa=k, beta=b) for k, b in sets]


def iso_model_inputs(w):
    """What training a model needs: events, labels, its EFP tables, the search's choice."""
    inputs = {"events": ISO_EVENTS, "cwola": ISO_CWOLA, "efps": iso_efp_tables(w.model)}
    if ISO_MODELS[w.model].get("efps") == "guided":
        inputs["search"] = ISO_SEARCH
    return inputs


def iso_holdout_efp_columns():
    """The EFP columns the bootstrapped models read (fixed lists; the search adds its own)."""
    fixed = [c for m in ISO_COMPARED if isinstance(ISO_MODELS[m].get("efps"), list)
             for c in ISO_MODELS[m]["efps"]]  # fmt: skip
    return list(dict.fromkeys(fixed))


def iso_bootstrap_inputs(w):
    """A bootstrap block's inputs: the model's, and the holdout sample with its EFPs."""
    inputs = iso_model_inputs(w)
    if ISO_HOLDOUT:
        inputs["holdout_events"] = ISO_HOLDOUT_EVENTS
        if ISO_MODELS[w.model]["kind"] == "cones_efps":
            inputs["holdout_efps"] = ISO_HOLDOUT_EFPS
    return inputs


def iso_evaluate_inputs(w):
    """An evaluation's inputs: the bootstrap blocks' test-fold scores, the events and the fit;
    with a holdout sample, its scores, events and fit too."""
    parts = range(ISO_BOOTSTRAP_JOBS)
    inputs = {
        "parts": [f"{ISO_DIR}/bootstrap/{w.model}/part{p}.h5" for p in parts],
        "events": ISO_EVENTS,
        "cwola": ISO_CWOLA,
        "fit": ISO_FIT,
    }
    if ISO_HOLDOUT:
        inputs["holdout_parts"] = [
            ISO_HOLDOUT_SCORES.format(model=w.model, part=p) for p in parts
        ]
        inputs.update(holdout_events=ISO_HOLDOUT_EVENTS, holdout_fit=ISO_HOLDOUT_FIT)
    return inputs


def iso_holdout_args(w, input, output=None):
    """The holdout sample's arguments of a step, from the names of its inputs and outputs."""
    text = ""
    for name in ("holdout_events", "holdout_efps", "holdout_fit", "holdout_parts"):
        if name in input.keys():
            value = getattr(input, name)
            paths = [value] if isinstance(value, str) else list(value)
            text += f" --{name.replace('_', '-')} " + " ".join(
                shlex.quote(p) for p in paths
            )
    if output is not None and "holdout_out" in output.keys():
        text += f" --holdout-out {shlex.quote(output.holdout_out)}"
    return text


def iso_model_args(w, input):
    """The optional arguments of the inputs of iso_model_inputs."""
    text = ""
    if input.get("efps"):
        text += " --efps " + " ".join(shlex.quote(p) for p in input.efps)
    if "search" in input.keys():
        text += f" --search {shlex.quote(input.search)}"
    return text
