variable "x" {
  description = "from ${var.y}"
}
