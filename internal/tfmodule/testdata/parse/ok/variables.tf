variable "name" {
  description = "The name | with a pipe."
  type        = string
}

variable "disk" {
  description = "A disk."
  type = object({
    size    = number
    storage = string
  })
  default = null
}
