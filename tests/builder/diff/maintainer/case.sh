# MAINTAINER sets the image's author, the rest of the line as it is
# (dockerfile2llb/convert.go dispatchMaintainer: d.image.Author).
check() { image .author '"Jane Doe <jane@example.com>"'; }
