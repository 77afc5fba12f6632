# The application of the classic "my first Docker image" tutorial.
import os

from flask import Flask

app = Flask(__name__)


@app.route("/")
def main():
    return "Welcome!\n"


@app.route("/how are you")
def hello():
    return "I am good, how about you?\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("FLASK_RUN_PORT", 5000)))
