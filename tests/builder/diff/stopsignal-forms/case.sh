# STOPSIGNAL by number or name, expanded, inherited through FROM <stage>
# (dispatchStopSignal keeps the string after signal.ParseSignal checks it).
check() { cfg .StopSignal '"SIGUSR1"'; }
