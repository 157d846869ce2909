"""Running .tflite files with LiteRT (no TensorFlow needed)."""


def tflite_runner(path):
    """`run(x) -> y` for a .tflite file; resizes the input for each new batch shape."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as error:
        from keras_disent.export import ExportError

        raise ExportError("Checking .tflite files needs LiteRT: pip install ai-edge-litert "
                          "(included in 'keras-disent[export]').") from error
    from keras_disent import process

    with process.quietly():  # LiteRT announces its CPU delegate on stderr
        interpreter = Interpreter(model_path=path)
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    def run(x):
        if tuple(interpreter.get_input_details()[0]["shape"]) != x.shape:
            interpreter.resize_tensor_input(input_index, x.shape)
            with process.quietly():
                interpreter.allocate_tensors()
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        return interpreter.get_tensor(output_index)

    with process.quietly():
        interpreter.allocate_tensors()
    run.tensor_names = (interpreter.get_input_details()[0]["name"],
                        interpreter.get_output_details()[0]["name"])
    return run
