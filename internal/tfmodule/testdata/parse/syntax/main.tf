variable "x" {
  description = 
